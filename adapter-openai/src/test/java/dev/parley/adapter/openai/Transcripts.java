package dev.parley.adapter.openai;

import java.util.List;

/**
 * Stream transcripts in the shapes each server family sends, after the providers' published
 * references: OpenAI's chat completion chunk object, Ollama's OpenAI-compatible chunk writer
 * ({@code reasoning} on the delta, {@code fp_ollama}, a usage-only chunk with empty choices),
 * vLLM's reasoning outputs ({@code reasoning_content}), and llama.cpp's server (usage and timings
 * on the finishing chunk).
 */
final class Transcripts {
    private Transcripts() {
    }

    private static final String OPENAI_HEAD =
            "{\"id\":\"chatcmpl-AZ9tq3\",\"object\":\"chat.completion.chunk\",\"created\":1731400000,"
                    + "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_0ba0d124f1\",";

    /** OpenAI: two parallel tool calls, arguments in fragments, then the usage chunk. */
    static final List<String> OPENAI_PARALLEL_TOOL_CALLS = List.of(
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_Paris1\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}],\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"ci\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"ty\\\": \\\"Par\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"is\\\"}\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"id\":\"call_Tokyo2\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"{\\\"city\\\": \"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":1,\"function\":{\"arguments\":\"\\\"Tokyo\\\"}\"}}]},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[],\"usage\":{\"prompt_tokens\":82,\"completion_tokens\":46,\"total_tokens\":128,\"prompt_tokens_details\":{\"cached_tokens\":0,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}",
            "[DONE]");

    /** OpenAI: a plain answer in text deltas, then the usage chunk. */
    static final List<String> OPENAI_TEXT = List.of(
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"! How can\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" I help?\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[],\"usage\":{\"prompt_tokens\":19,\"completion_tokens\":10,\"total_tokens\":29}}",
            "[DONE]");

    private static final String OLLAMA_HEAD =
            "{\"id\":\"chatcmpl-412\",\"object\":\"chat.completion.chunk\",\"created\":1754524122,"
                    + "\"model\":\"qwen3:8b\",\"system_fingerprint\":\"fp_ollama\",";

    /** Ollama's /v1/chat/completions with a thinking model: reasoning deltas first, then the answer. */
    static final List<String> OLLAMA_REASONING = List.of(
            OLLAMA_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning\":\"The user\"},\"finish_reason\":null}]}",
            OLLAMA_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"reasoning\":\" greets me.\"},\"finish_reason\":null}]}",
            OLLAMA_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"},\"finish_reason\":null}]}",
            OLLAMA_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\" there!\"},\"finish_reason\":null}]}",
            OLLAMA_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":\"stop\"}]}",
            OLLAMA_HEAD + "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":40,\"total_tokens\":52}}",
            "[DONE]");

    /** Ollama: whole tool calls in one chunk (Ollama does not fragment arguments). */
    static final List<String> OLLAMA_TOOL_CALLS = List.of(
            OLLAMA_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"tool_calls\":[{\"id\":\"call_k3x9\",\"index\":0,\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}},{\"id\":\"call_p2m4\",\"index\":1,\"type\":\"function\",\"function\":{\"name\":\"get_time\",\"arguments\":\"{\\\"zone\\\":\\\"Europe/Paris\\\"}\"}}]},\"finish_reason\":null}]}",
            OLLAMA_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":\"tool_calls\"}]}",
            "[DONE]");

    private static final String VLLM_HEAD =
            "{\"id\":\"chatcmpl-7f3c2b\",\"object\":\"chat.completion.chunk\",\"created\":1738000000,"
                    + "\"model\":\"deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B\",";

    /** vLLM with a reasoning parser: {@code reasoning_content} deltas, then content. */
    static final List<String> VLLM_REASONING_CONTENT = List.of(
            VLLM_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}",
            VLLM_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Compare 9.11\"},\"logprobs\":null,\"finish_reason\":null}]}",
            VLLM_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\" and 9.8.\"},\"logprobs\":null,\"finish_reason\":null}]}",
            VLLM_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"9.8 is\"},\"logprobs\":null,\"finish_reason\":null}]}",
            VLLM_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" greater.\"},\"logprobs\":null,\"finish_reason\":null}]}",
            VLLM_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"logprobs\":null,\"finish_reason\":\"stop\",\"stop_reason\":null}]}",
            VLLM_HEAD + "\"choices\":[],\"usage\":{\"prompt_tokens\":18,\"total_tokens\":60,\"completion_tokens\":42}}",
            "[DONE]");

    /** Newer vLLM sends {@code reasoning} and the old alias {@code reasoning_content} side by side. */
    static final List<String> VLLM_BOTH_REASONING_ALIASES = List.of(
            VLLM_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"Think.\",\"reasoning_content\":\"Think.\"},\"logprobs\":null,\"finish_reason\":null}]}",
            VLLM_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Done.\"},\"logprobs\":null,\"finish_reason\":\"stop\"}]}",
            "[DONE]");

    /** A server asked without {@code stream_options}: no usage anywhere. */
    static final List<String> NO_USAGE = List.of(
            "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"local-model\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Just\"},\"finish_reason\":null}]}",
            "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"local-model\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\" text.\"},\"finish_reason\":null}]}",
            "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"local-model\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}",
            "[DONE]");

    /** llama.cpp server: usage and timings ride on the finishing chunk. */
    static final List<String> LLAMA_CPP = List.of(
            "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null}}],\"created\":1762593253,\"id\":\"chatcmpl-DHvc\",\"model\":\"gpt-oss:20b\",\"system_fingerprint\":\"b6881-8b11deea4\",\"object\":\"chat.completion.chunk\"}",
            "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"reasoning_content\":\"We\"}}],\"created\":1762593253,\"id\":\"chatcmpl-DHvc\",\"model\":\"gpt-oss:20b\",\"system_fingerprint\":\"b6881-8b11deea4\",\"object\":\"chat.completion.chunk\"}",
            "{\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\"Hello!\"}}],\"created\":1762593253,\"id\":\"chatcmpl-DHvc\",\"model\":\"gpt-oss:20b\",\"system_fingerprint\":\"b6881-8b11deea4\",\"object\":\"chat.completion.chunk\"}",
            "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"delta\":{}}],\"created\":1762593253,\"id\":\"chatcmpl-DHvc\",\"model\":\"gpt-oss:20b\",\"system_fingerprint\":\"b6881-8b11deea4\",\"object\":\"chat.completion.chunk\",\"usage\":{\"completion_tokens\":247,\"prompt_tokens\":1085,\"total_tokens\":1332},\"timings\":{\"prompt_n\":1085,\"prompt_ms\":203.378,\"predicted_n\":247,\"predicted_ms\":933.63}}",
            "[DONE]");

    /** A non-streaming completion with reasoning, a tool call and usage. */
    static final String NON_STREAMING_COMPLETION =
            "{\"id\":\"chatcmpl-abc123\",\"object\":\"chat.completion\",\"created\":1699896916,\"model\":\"gpt-4o-mini\","
                    + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Checking.\",\"reasoning_content\":\"Need weather.\","
                    + "\"tool_calls\":[{\"id\":\"call_abc123\",\"type\":\"function\",\"function\":{\"name\":\"get_current_weather\",\"arguments\":\"{\\n\\\"location\\\": \\\"Boston, MA\\\"\\n}\"}}]},"
                    + "\"logprobs\":null,\"finish_reason\":\"tool_calls\"}],"
                    + "\"usage\":{\"prompt_tokens\":82,\"completion_tokens\":17,\"total_tokens\":99}}";

    /** OpenAI: an answer whose prompt was mostly read from the prompt cache ({@code prompt_tokens_details.cached_tokens}). */
    static final List<String> OPENAI_CACHED_PROMPT = List.of(
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Again\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":null}",
            OPENAI_HEAD + "\"choices\":[],\"usage\":{\"prompt_tokens\":2006,\"completion_tokens\":300,\"total_tokens\":2306,\"prompt_tokens_details\":{\"cached_tokens\":1920,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}}}",
            "[DONE]");

    /** DeepSeek: the cache hits in its own usage fields ({@code prompt_cache_hit_tokens}, {@code prompt_cache_miss_tokens}). */
    static final List<String> DEEPSEEK_CACHE_HIT = List.of(
            "{\"id\":\"e3b5\",\"object\":\"chat.completion.chunk\",\"created\":1738000000,\"model\":\"deepseek-chat\",\"system_fingerprint\":\"fp_3a5770e1b4\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Yes.\"},\"logprobs\":null,\"finish_reason\":null}]}",
            "{\"id\":\"e3b5\",\"object\":\"chat.completion.chunk\",\"created\":1738000000,\"model\":\"deepseek-chat\",\"system_fingerprint\":\"fp_3a5770e1b4\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":140,\"completion_tokens\":2,\"total_tokens\":142,\"prompt_tokens_details\":null,\"prompt_cache_hit_tokens\":128,\"prompt_cache_miss_tokens\":12}}",
            "[DONE]");

    /** A non-streaming completion whose usage reports cached prompt tokens. */
    static final String NON_STREAMING_CACHED_PROMPT =
            "{\"id\":\"chatcmpl-abc124\",\"object\":\"chat.completion\",\"created\":1699896917,\"model\":\"gpt-4o-mini\","
                    + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Sure.\"},\"logprobs\":null,\"finish_reason\":\"stop\"}],"
                    + "\"usage\":{\"prompt_tokens\":1500,\"completion_tokens\":3,\"total_tokens\":1503,\"prompt_tokens_details\":{\"cached_tokens\":1280}}}";

    /** A data line for one text delta in OpenAI's shape. */
    static String textDelta(String text) {
        return OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\"" + text + "\"},\"logprobs\":null,\"finish_reason\":null}],\"usage\":null}";
    }

    /** A data line that ends the answer. */
    static String finish(String reason) {
        return OPENAI_HEAD + "\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"" + reason + "\"}],\"usage\":null}";
    }
}
