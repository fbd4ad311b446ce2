package dev.parley.examples;

import dev.parley.adapter.mcp.McpServerConfig;
import dev.parley.chat.core.ChatServiceBuilder;
import dev.parley.chat.model.ModelPrice;
import java.math.BigDecimal;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The demo server's settings, read from environment variables. Every value is checked when read:
 * a bad one is an {@link IllegalArgumentException} whose message names the variable and what it
 * accepts. {@code jwtSecret} is null when none was given (the server then generates one);
 * {@code openAiBaseUrl} is null for the built-in demo model, whose name {@code model} then is
 * ({@code PARLEY_MODEL} only names the model of an OpenAI-compatible server). {@code rateLimitStore} is
 * {@code memory} or {@code postgres}; {@code metricsToken} is null when {@code /metrics} needs no token.
 * {@code behindTls} ({@code PARLEY_BEHIND_TLS}) says browsers reach the server over HTTPS, which adds HSTS.
 * {@code livenessGrace} ({@code PARLEY_LIVENESS_GRACE_MS}, 0 = off) is how long, on PostgreSQL, a server that holds no
 * liveness signal must also not have beaten before the others end its runs without waiting for their lease.
 * {@code prices} ({@code PARLEY_MODEL_PRICES}, e.g. {@code gpt-4o-mini=0.15/0.60/0.075,llama3.2=0/0}: US dollars per
 * million input / output / cached input tokens, cached input priced as input when left out) are empty when unset (the
 * demo model's own price then applies);
 * {@code userBudgetUsd} ({@code PARLEY_USER_BUDGET_USD}) is each user's monthly budget, null for none;
 * {@code trashRetention} ({@code PARLEY_TRASH_RETENTION_DAYS}, 0 = forever) is how long deleted threads stay restorable;
 * {@code eventLogRetention} ({@code PARLEY_EVENT_LOG_RETENTION_DAYS}, 0 = forever) how long a finished run's events stay replayable.
 * {@code oidc} is null unless {@code PARLEY_OIDC_ISSUER} names an identity provider whose tokens the API then
 * accepts instead of HS256 ones ({@link DemoOidc}); the dev login is then off.
 * {@code mcpServers} ({@code PARLEY_MCP_SERVERS}, {@link DemoMcp}) are the MCP servers whose tools join the tool registry.
 * {@code limits} are the per-user and per-server limits ({@link DemoLimits}).
 * {@code observability} holds
 * the log level and format and whether traces are exported ({@link DemoObservability}).
 * {@code maxTokensParameter} ({@code OPENAI_MAX_TOKENS_PARAMETER}) is the request field of the OpenAI-compatible
 * server that carries a run's output token limit: {@code max_completion_tokens} (OpenAI's) or {@code max_tokens}
 * (Ollama's OpenAI endpoint reads only that).
 */
public record DemoConfig(
        int port,
        String dbUrl,
        String dbUser,
        String dbPassword,
        int dbPoolSize,
        String jwtSecret,
        boolean devLogin,
        int rateLimitPerMinute,
        List<String> corsOrigins,
        String openAiBaseUrl,
        String openAiApiKey,
        String model,
        Duration tokenDelay,
        String rateLimitStore,
        boolean metrics,
        String metricsToken,
        Duration runLease,
        Duration livenessGrace,
        boolean behindTls,
        Map<String, ModelPrice> prices,
        BigDecimal userBudgetUsd,
        Duration trashRetention,
        Duration eventLogRetention,
        DemoOidc oidc,
        List<McpServerConfig> mcpServers,
        DemoLimits limits,
        DemoObservability observability,
        String maxTokensParameter) {

    public static final int DEFAULT_PORT = 7070;
    public static final String DEFAULT_DB_URL = "jdbc:h2:file:./data/parley";
    public static final int DEFAULT_RATE_LIMIT = 600;
    public static final int DEFAULT_DB_POOL_SIZE = 10;
    public static final String DEFAULT_OPENAI_MODEL = "gpt-4o-mini";
    public static final long DEFAULT_TOKEN_DELAY_MS = 15;
    public static final int DEFAULT_RUN_LEASE_SECONDS = 30;
    public static final int DEFAULT_LIVENESS_GRACE_MS = (int) ChatServiceBuilder.DEFAULT_LIVENESS_GRACE.toMillis();
    /** The shortest liveness grace the chat service takes (zero aside). */
    public static final int MIN_LIVENESS_GRACE_MS = 100;
    public static final int DEFAULT_TRASH_RETENTION_DAYS = 30;
    public static final int DEFAULT_EVENT_LOG_RETENTION_DAYS = 0;
    public static final String RATE_LIMIT_IN_MEMORY = "memory";
    public static final String RATE_LIMIT_IN_POSTGRES = "postgres";
    public static final String MAX_COMPLETION_TOKENS = "max_completion_tokens";
    public static final String MAX_TOKENS = "max_tokens";
    /** HS256 needs a key of at least 256 bits. */
    public static final int MIN_SECRET_BYTES = 32;

    public DemoConfig {
        corsOrigins = List.copyOf(corsOrigins);
        prices = Map.copyOf(prices);
        mcpServers = mcpServers == null ? List.of() : List.copyOf(mcpServers);
        observability = observability == null ? DemoObservability.defaults() : observability;
        maxTokensParameter = maxTokensParameter == null ? MAX_COMPLETION_TOKENS : maxTokensParameter;
        if (!RATE_LIMIT_IN_MEMORY.equals(rateLimitStore) && !RATE_LIMIT_IN_POSTGRES.equals(rateLimitStore)) {
            throw new IllegalArgumentException("rateLimitStore must be memory or postgres");
        }
    }

    /** Reads the settings from {@code env} (normally {@code System.getenv()}), defaults for what is unset. */
    public static DemoConfig fromEnvironment(Map<String, String> env) {
        int port = integer(env, "PARLEY_PORT", DEFAULT_PORT, 0, 65_535);
        String dbUrl = text(env, "PARLEY_DB_URL", DEFAULT_DB_URL);
        if (!dbUrl.startsWith("jdbc:h2:") && !dbUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("PARLEY_DB_URL must be a jdbc:h2: or jdbc:postgresql: URL, was '" + dbUrl + "'");
        }
        String dbUser = text(env, "PARLEY_DB_USER", dbUrl.startsWith("jdbc:h2:") ? "sa" : "");
        String dbPassword = text(env, "PARLEY_DB_PASSWORD", "");
        int dbPoolSize = integer(env, "PARLEY_DB_POOL_SIZE", DEFAULT_DB_POOL_SIZE, 1, 500);
        String secret = text(env, "PARLEY_JWT_SECRET", null);
        if (secret != null && secret.getBytes(StandardCharsets.UTF_8).length < MIN_SECRET_BYTES) {
            throw new IllegalArgumentException("PARLEY_JWT_SECRET must be at least " + MIN_SECRET_BYTES
                    + " bytes (256 bits) for HS256; leave it unset to generate a random one");
        }
        DemoOidc oidc = DemoOidc.fromEnvironment(env);
        boolean devLogin = bool(env, "PARLEY_DEV_LOGIN", oidc == null);
        if (devLogin && oidc != null) {
            throw new IllegalArgumentException("PARLEY_DEV_LOGIN cannot be true with PARLEY_OIDC_ISSUER: the API then accepts only"
                    + " the identity provider's tokens");
        }
        int rateLimit = integer(env, "PARLEY_RATE_LIMIT", DEFAULT_RATE_LIMIT, 0, 1_000_000);
        List<String> cors = origins(text(env, "PARLEY_CORS_ORIGINS", ""));
        String baseUrl = text(env, "OPENAI_BASE_URL", null);
        if (baseUrl != null) {
            requireHttpUrl("OPENAI_BASE_URL", baseUrl);
        }
        String apiKey = text(env, "OPENAI_API_KEY", null);
        String maxTokensParameter = text(env, "OPENAI_MAX_TOKENS_PARAMETER", MAX_COMPLETION_TOKENS);
        if (!maxTokensParameter.equals(MAX_COMPLETION_TOKENS) && !maxTokensParameter.equals(MAX_TOKENS)) {
            throw new IllegalArgumentException("OPENAI_MAX_TOKENS_PARAMETER must be max_completion_tokens or max_tokens, was '"
                    + maxTokensParameter + "'");
        }
        String model = baseUrl == null ? DemoChatModel.MODEL_NAME : text(env, "PARLEY_MODEL", DEFAULT_OPENAI_MODEL);
        long delayMs = integer(env, "PARLEY_DEMO_TOKEN_DELAY_MS", (int) DEFAULT_TOKEN_DELAY_MS, 0, 60_000);
        int leaseSeconds = integer(env, "PARLEY_RUN_LEASE_SECONDS", DEFAULT_RUN_LEASE_SECONDS, 1, 3600);
        int graceMs = integer(env, "PARLEY_LIVENESS_GRACE_MS", DEFAULT_LIVENESS_GRACE_MS, 0, 600_000);
        if (graceMs > 0 && graceMs < MIN_LIVENESS_GRACE_MS) {
            throw new IllegalArgumentException("PARLEY_LIVENESS_GRACE_MS must be 0 (off) or a whole number from "
                    + MIN_LIVENESS_GRACE_MS + " to 600000, was '" + graceMs + "'");
        }
        String store = text(env, "PARLEY_RATE_LIMIT_STORE", RATE_LIMIT_IN_MEMORY).toLowerCase(Locale.ROOT);
        if (!store.equals(RATE_LIMIT_IN_MEMORY) && !store.equals(RATE_LIMIT_IN_POSTGRES)) {
            throw new IllegalArgumentException("PARLEY_RATE_LIMIT_STORE must be memory or postgres, was '" + store + "'");
        }
        if (store.equals(RATE_LIMIT_IN_POSTGRES) && !dbUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("PARLEY_RATE_LIMIT_STORE=postgres needs a jdbc:postgresql: PARLEY_DB_URL");
        }
        boolean metrics = bool(env, "PARLEY_METRICS", true);
        String metricsToken = text(env, "PARLEY_METRICS_TOKEN", null);
        boolean behindTls = bool(env, "PARLEY_BEHIND_TLS", false);
        Map<String, ModelPrice> prices = prices(text(env, "PARLEY_MODEL_PRICES", ""));
        BigDecimal budget = budget(text(env, "PARLEY_USER_BUDGET_USD", null));
        int retentionDays = integer(env, "PARLEY_TRASH_RETENTION_DAYS", DEFAULT_TRASH_RETENTION_DAYS, 0, 36_500);
        int eventLogDays = integer(env, "PARLEY_EVENT_LOG_RETENTION_DAYS", DEFAULT_EVENT_LOG_RETENTION_DAYS, 0, 36_500);
        return new DemoConfig(port, dbUrl, dbUser, dbPassword, dbPoolSize, secret, devLogin, rateLimit, cors, baseUrl, apiKey,
                model, Duration.ofMillis(delayMs), store, metrics, metricsToken, Duration.ofSeconds(leaseSeconds),
                Duration.ofMillis(graceMs), behindTls,
                prices, budget, Duration.ofDays(retentionDays), Duration.ofDays(eventLogDays), oidc, DemoMcp.fromEnvironment(env),
                DemoLimits.fromEnvironment(env), DemoObservability.fromEnvironment(env), maxTokensParameter);
    }

    /** True when the real model (through an OpenAI-compatible server) answers instead of the demo model. */
    public boolean usesOpenAi() {
        return openAiBaseUrl != null;
    }

    /** This configuration on another port (0 for any free one). */
    public DemoConfig withPort(int newPort) {
        return new DemoConfig(newPort, dbUrl, dbUser, dbPassword, dbPoolSize, jwtSecret, devLogin, rateLimitPerMinute, corsOrigins,
                openAiBaseUrl, openAiApiKey, model, tokenDelay, rateLimitStore, metrics, metricsToken, runLease, livenessGrace, behindTls,
                prices, userBudgetUsd, trashRetention, eventLogRetention, oidc, mcpServers, limits, observability, maxTokensParameter);
    }

    @Override
    public String toString() {
        // secrets stay out of logs
        return "DemoConfig[port=" + port + ", dbUrl=" + redacted(dbUrl) + ", dbUser=" + dbUser + ", dbPoolSize=" + dbPoolSize + ", devLogin=" + devLogin
                + ", rateLimitPerMinute=" + rateLimitPerMinute + ", corsOrigins=" + corsOrigins
                + ", openAiBaseUrl=" + openAiBaseUrl + ", model=" + model + ", tokenDelay=" + tokenDelay.toMillis() + "ms"
                + ", rateLimitStore=" + rateLimitStore + ", metrics=" + metrics + (metricsToken == null ? "" : " (token)")
                + ", runLease=" + runLease.toSeconds() + "s, livenessGrace=" + livenessGrace.toMillis() + "ms"
                + ", behindTls=" + behindTls + ", prices=" + prices.keySet()
                + ", userBudgetUsd=" + userBudgetUsd + ", trashRetention=" + trashRetention.toDays() + "d"
                + ", eventLogRetention=" + eventLogRetention.toDays() + "d"
                + (oidc == null ? "" : ", " + oidc) + (mcpServers.isEmpty() ? "" : ", mcpServers=" + mcpServers) + ", " + limits + ", " + observability + "]";
    }

    /** {@code url} with the values of any password parameters hidden. */
    static String redacted(String url) {
        return url.replaceAll("(?i)(password=)[^&;]*", "$1***");
    }

    private static String text(Map<String, String> env, String name, String fallback) {
        String value = env.get(name);
        return value == null || value.isBlank() ? fallback : value.strip();
    }

    static int integer(Map<String, String> env, String name, int fallback, int min, int max) {
        String value = text(env, name, null);
        if (value == null) {
            return fallback;
        }
        try {
            int parsed = Integer.parseInt(value);
            if (parsed >= min && parsed <= max) {
                return parsed;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be a whole number from " + min + " to " + max + ", was '" + value + "'");
    }

    private static boolean bool(Map<String, String> env, String name, boolean fallback) {
        String value = text(env, name, null);
        if (value == null) {
            return fallback;
        }
        switch (value.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "on", "1" -> {
                return true;
            }
            case "false", "no", "off", "0" -> {
                return false;
            }
            default -> throw new IllegalArgumentException(name + " must be true or false, was '" + value + "'");
        }
    }

    private static List<String> origins(String value) {
        List<String> origins = new ArrayList<>();
        for (String part : value.split(",")) {
            String origin = part.strip();
            if (origin.isEmpty()) {
                continue;
            }
            if (!origin.equals("*")) {
                requireHttpUrl("PARLEY_CORS_ORIGINS", origin);
                URI uri = URI.create(origin);
                if (uri.getPath() != null && !uri.getPath().isEmpty()) {
                    throw new IllegalArgumentException("PARLEY_CORS_ORIGINS entries are origins like https://app.example.com"
                            + " (no path), was '" + origin + "'");
                }
            }
            origins.add(origin);
        }
        return origins;
    }

    /**
     * {@code model=input/output[/cached_input],...} in US dollars per million tokens (without a cached input price,
     * cached input tokens cost as input); a bad entry names the variable and the entry.
     */
    static Map<String, ModelPrice> prices(String value) {
        Map<String, ModelPrice> prices = new LinkedHashMap<>();
        for (String part : value.split(",")) {
            String entry = part.strip();
            if (entry.isEmpty()) {
                continue;
            }
            int eq = entry.lastIndexOf('=');
            String[] amounts = eq < 0 ? new String[0] : entry.substring(eq + 1).split("/", -1);
            String model = eq < 0 ? "" : entry.substring(0, eq).strip();
            try {
                if (model.isEmpty() || amounts.length < 2 || amounts.length > 3 || prices.containsKey(model)) {
                    throw new IllegalArgumentException();
                }
                prices.put(model, amounts.length == 2 ? ModelPrice.of(amounts[0].strip(), amounts[1].strip())
                        : ModelPrice.of(amounts[0].strip(), amounts[1].strip(), amounts[2].strip()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("PARLEY_MODEL_PRICES must be model=input/output or model=input/output/cached_input"
                        + " entries in US dollars per million tokens, separated by commas (e.g. gpt-4o-mini=0.15/0.60/0.075,llama3.2=0/0),"
                        + " each model once; was '" + entry + "'");
            }
        }
        return prices;
    }

    private static BigDecimal budget(String value) {
        if (value == null) {
            return null;
        }
        try {
            BigDecimal budget = new BigDecimal(value);
            if (budget.signum() >= 0) {
                return budget;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new IllegalArgumentException("PARLEY_USER_BUDGET_USD must be a non-negative amount of US dollars (e.g. 25 or 2.50),"
                + " was '" + value + "'");
    }

    private static void requireHttpUrl(String name, String value) {
        try {
            URI uri = new URI(value);
            if (("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null) {
                return;
            }
        } catch (URISyntaxException e) {
            // reported below
        }
        throw new IllegalArgumentException(name + " must be an http:// or https:// URL, was '" + value + "'");
    }
}
