package dev.parley.adapter.openai.compat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.parley.chat.model.ModelSettings;
import dev.parley.chat.model.ReasoningEffort;
import dev.parley.chat.model.RunInstructions;
import dev.parley.chat.model.WireEnum;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The model settings a request gives for its run, as OpenAI names them: {@code temperature},
 * {@code max_output_tokens} and {@code reasoning.effort} (Responses), {@code temperature},
 * {@code max_completion_tokens} or the older {@code max_tokens}, and {@code reasoning_effort} (Chat
 * Completions). Each one given overrides the agent's own for that run; a bad value is 400 naming it.
 * Also what a response object echoes of its run: the settings it was sent with and the response it
 * continued.
 */
final class RunSettings {
    private static final String EFFORTS = Arrays.stream(ReasoningEffort.values()).map(WireEnum::wireName)
            .collect(Collectors.joining(", "));

    private RunSettings() {}

    /** A Responses create's settings. */
    static ModelSettings ofResponse(JsonNode body) {
        Double temperature = temperature(body);
        Integer maxOutputTokens = maxTokens(body, "max_output_tokens");
        ReasoningEffort effort = null;
        JsonNode reasoning = body.get("reasoning");
        if (reasoning != null && !reasoning.isNull()) {
            if (!reasoning.isObject()) {
                throw OpenAiError.invalid("reasoning", "Invalid type for 'reasoning': expected an object.");
            }
            for (var names = reasoning.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!name.equals("effort") && !name.equals("summary")) {
                    throw OpenAiError.unsupported("reasoning." + Http.shown(name), "Parley does not offer it");
                }
            }
            JsonNode summary = reasoning.get("summary");
            if (summary != null && !summary.isNull() && !"auto".equals(summary.asText(null))) {
                throw OpenAiError.unsupported("reasoning.summary", "the model's thinking is given as it comes (summary: auto)");
            }
            effort = effort(reasoning.get("effort"), "reasoning.effort");
        }
        return settings(temperature, maxOutputTokens, effort);
    }

    /** A Chat Completions request's settings; {@code max_tokens} and {@code max_completion_tokens} are one setting. */
    static ModelSettings ofChatCompletion(JsonNode body) {
        Double temperature = temperature(body);
        Integer completion = maxTokens(body, "max_completion_tokens");
        Integer legacy = maxTokens(body, "max_tokens");
        if (completion != null && legacy != null && !completion.equals(legacy)) {
            throw OpenAiError.invalid("max_tokens", "Give one of 'max_tokens' and 'max_completion_tokens' (they are one limit).");
        }
        return settings(temperature, completion != null ? completion : legacy, effort(body.get("reasoning_effort"), "reasoning_effort"));
    }

    private static ModelSettings settings(Double temperature, Integer maxTokens, ReasoningEffort effort) {
        return temperature == null && maxTokens == null && effort == null ? ModelSettings.DEFAULT
                : new ModelSettings(temperature, maxTokens, effort);
    }

    private static Double temperature(JsonNode body) {
        JsonNode node = body.get("temperature");
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isNumber() || !(node.asDouble() >= 0 && node.asDouble() <= 2)) {
            throw OpenAiError.invalid("temperature", "Invalid 'temperature': expected a number from 0 to 2.");
        }
        return node.asDouble();
    }

    private static Integer maxTokens(JsonNode body, String name) {
        JsonNode node = body.get(name);
        if (node == null || node.isNull()) {
            return null;
        }
        if (!node.isIntegralNumber() || !node.canConvertToInt() || node.asInt() < 1 || node.asInt() > ModelSettings.MAX_OUTPUT_TOKENS) {
            throw OpenAiError.invalid(name, "Invalid '" + name + "': expected an integer from 1 to " + ModelSettings.MAX_OUTPUT_TOKENS + ".");
        }
        return node.asInt();
    }

    private static ReasoningEffort effort(JsonNode node, String param) {
        if (node == null || node.isNull()) {
            return null;
        }
        return (node.isTextual() ? WireEnum.fromWire(ReasoningEffort.class, node.asText()) : java.util.Optional.<ReasoningEffort>empty())
                .orElseThrow(() -> new OpenAiError(400, "invalid_request_error", param, "unsupported_value",
                        "Unsupported value for '" + param + "': Parley offers " + EFFORTS + "."));
    }

    /**
     * What a response object echoes of its run: the settings its model calls were sent with ({@code used}
     * as the run recorded it; null: none) and, for a response that continued another, that response's id.
     */
    record Echo(ModelSettings settings, String previousResponseId) {
        static final Echo NONE = new Echo(ModelSettings.DEFAULT, null);

        Echo {
            settings = settings == null ? ModelSettings.DEFAULT : settings;
        }

        /**
         * The echo of response {@code ref} of a run that recorded {@code used}: a response after an
         * approval continued the one that asked, the first one what its send continued.
         */
        static Echo of(Wire.Ref ref, RunInstructions used) {
            String previous = ref.segment() > 0 ? new Wire.Ref(ref.run(), ref.segment() - 1).id()
                    : used == null ? null : used.continuedFrom();
            return new Echo(used == null ? null : used.settings(), previous);
        }

        /** Writes the echoed members into a response object. */
        void writeTo(ObjectNode response) {
            putNumber(response, "temperature", settings.temperature());
            if (settings.maxOutputTokens() == null) {
                response.putNull("max_output_tokens");
            } else {
                response.put("max_output_tokens", settings.maxOutputTokens());
            }
            response.put("previous_response_id", previousResponseId);
            if (settings.reasoningEffort() == null) {
                response.putNull("reasoning");
            } else {
                ObjectNode reasoning = response.putObject("reasoning");
                reasoning.put("effort", settings.reasoningEffort().wireName());
                reasoning.putNull("summary");
            }
        }

        private static void putNumber(ObjectNode o, String name, Double value) {
            if (value == null) {
                o.putNull(name);
            } else {
                o.put(name, value);
            }
        }
    }
}
