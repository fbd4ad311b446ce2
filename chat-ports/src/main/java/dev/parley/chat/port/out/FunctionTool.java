package dev.parley.chat.port.out;

import dev.parley.chat.model.ToolSpec;

/** A tool made of a spec and a lambda, by {@link Tool#of}. */
record FunctionTool(ToolSpec spec, Tool.Handler handler) implements Tool {

    @Override
    public String name() {
        return spec.name();
    }

    @Override
    public String description() {
        return spec.description();
    }

    @Override
    public String parametersSchema() {
        return spec.parametersSchema();
    }

    @Override
    public String execute(ToolContext context) throws Exception {
        return handler.execute(context);
    }

    @Override
    public String toString() {
        return "Tool[" + spec.name() + "]";
    }
}
