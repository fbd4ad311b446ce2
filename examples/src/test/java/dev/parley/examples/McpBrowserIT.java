package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * A chat on the demo with the agent that has an MCP server's tools, in a real Chromium: the demo
 * starts {@code @modelcontextprotocol/server-everything} from npm over stdio ({@code PARLEY_MCP_SERVERS}),
 * and the page shows the tool call, its progress as the server reports it, and its result.
 */
class McpBrowserIT extends BrowserTestBase {
    private static final String TOOL = "everything_trigger-long-running-operation";

    @BeforeAll
    static void startWithAnMcpServer() throws IOException {
        Path script = Path.of(System.getProperty("parley.mcp.everything",
                "../adapter-mcp/mcp-servers/node_modules/@modelcontextprotocol/server-everything/dist/index.js"));
        if (!Files.isRegularFile(script)) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true needs server-everything at " + script + " (adapter-mcp/mcp-servers/install.sh)");
            }
            Assumptions.abort("server-everything is not installed (needs Node.js 20+ and npm): " + script);
        }
        stop();
        String servers = "[{\"name\": \"everything\", \"command\": \"node\", \"args\": [\"" + script.toAbsolutePath()
                + "\", \"stdio\"], \"env\": {}}]";
        start("15", Map.of("PARLEY_MCP_SERVERS", servers), options -> { });
    }

    @Test
    void should_show_the_mcp_tool_call_its_progress_and_its_result() {
        // given: the agent with the MCP server's tools
        signIn("mia");
        await("the MCP agent in the picker", d -> !d.findElements(By.cssSelector("#agent-select option[value='mcp']")).isEmpty());
        new Select(byTestId("agent-select")).selectByValue("mcp");
        // every text the trace's output shows, as it changes
        js("window.__outputs = [];"
                + "new MutationObserver(() => document.querySelectorAll('[data-testid=trace-output]').forEach(o => {"
                + "  const t = o.textContent; if (window.__outputs[window.__outputs.length - 1] !== t) window.__outputs.push(t); }))"
                + ".observe(document.body, {subtree: true, childList: true, characterData: true});");

        // when
        send("use " + TOOL + " {\"duration\": 1.5, \"steps\": 3}");

        // then: the call, its progress, its result
        WebElement button = byTestId("trace-button");
        if (button.isDisplayed() && "false".equals(button.getAttribute("aria-expanded")) && !byTestId("trace-panel").isDisplayed()) {
            button.click();
        }
        WebElement trace = await("the trace of the MCP call", d -> d.findElements(By.cssSelector("[data-testid=trace-item]")).stream()
                .filter(i -> text(i, "trace-tool").equals(TOOL)).findFirst().orElse(null));
        String result = "Long running operation completed. Duration: 1.5 seconds, Steps: 3.";
        awaitAssistantText("The " + TOOL + " tool answered: " + result);
        await("the call completed", d -> text(trace, "trace-status").equalsIgnoreCase("completed"));
        assertThat(trace.findElement(By.cssSelector("[data-testid=trace-output]")).getAttribute("textContent")).isEqualTo(result);
        assertThat(trace.findElement(By.cssSelector("[data-testid=trace-arguments]")).getAttribute("textContent")).contains("steps");
        @SuppressWarnings("unchecked")
        List<String> outputs = (List<String>) js("return window.__outputs;");
        assertThat(outputs).as("what the trace's output showed").contains("progress 1/3", "progress 2/3").endsWith(result);
        screenshot("mcp-call");
    }
}
