package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DemoConfigTest {

    @Test
    void should_use_the_documented_defaults_when_nothing_is_set() {
        // when
        DemoConfig config = DemoConfig.fromEnvironment(Map.of());

        // then
        assertThat(config.port()).isEqualTo(7070);
        assertThat(config.dbUrl()).isEqualTo("jdbc:h2:file:./data/parley");
        assertThat(config.dbUser()).isEqualTo("sa");
        assertThat(config.dbPassword()).isEmpty();
        assertThat(config.jwtSecret()).isNull();
        assertThat(config.devLogin()).isTrue();
        assertThat(config.rateLimitPerMinute()).isEqualTo(600);
        assertThat(config.corsOrigins()).isEmpty();
        assertThat(config.usesOpenAi()).isFalse();
        assertThat(config.model()).isEqualTo("parley-demo");
        assertThat(config.tokenDelay()).isEqualTo(Duration.ofMillis(15));
        assertThat(config.runLease()).isEqualTo(Duration.ofSeconds(30));
        assertThat(config.livenessGrace()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.rateLimitStore()).isEqualTo("memory");
        assertThat(config.metrics()).isTrue();
        assertThat(config.metricsToken()).isNull();
        assertThat(config.behindTls()).isFalse();
    }

    @Test
    void should_count_rate_limits_in_postgres_only_on_a_postgres_database() {
        DemoConfig shared = DemoConfig.fromEnvironment(Map.of("PARLEY_DB_URL", "jdbc:postgresql://db:5432/parley",
                "PARLEY_RATE_LIMIT_STORE", "POSTGRES", "PARLEY_METRICS_TOKEN", "scrape-me", "PARLEY_METRICS", "on"));
        assertThat(shared.rateLimitStore()).isEqualTo("postgres");
        assertThat(shared.metricsToken()).isEqualTo("scrape-me");
        assertThat(shared.toString()).doesNotContain("scrape-me");
        assertThatThrownBy(() -> DemoConfig.fromEnvironment(Map.of("PARLEY_RATE_LIMIT_STORE", "postgres")))
                .hasMessageContaining("PARLEY_RATE_LIMIT_STORE=postgres needs a jdbc:postgresql: PARLEY_DB_URL");
        assertThatThrownBy(() -> DemoConfig.fromEnvironment(Map.of("PARLEY_RATE_LIMIT_STORE", "redis")))
                .hasMessageContaining("PARLEY_RATE_LIMIT_STORE must be memory or postgres");
        assertThat(DemoConfig.fromEnvironment(Map.of("PARLEY_METRICS", "false")).metrics()).isFalse();
    }

    @Test
    void should_read_every_variable() {
        // given
        Map<String, String> env = Map.ofEntries(
                Map.entry("PARLEY_PORT", "8081"),
                Map.entry("PARLEY_DB_URL", "jdbc:postgresql://127.0.0.1:5432/test"),
                Map.entry("PARLEY_DB_USER", "postgres"),
                Map.entry("PARLEY_DB_PASSWORD", "pw"),
                Map.entry("PARLEY_JWT_SECRET", "0123456789abcdef0123456789abcdef"),
                Map.entry("PARLEY_DEV_LOGIN", "false"),
                Map.entry("PARLEY_RATE_LIMIT", "30"),
                Map.entry("PARLEY_CORS_ORIGINS", "https://a.example.com, http://localhost:3000"),
                Map.entry("OPENAI_BASE_URL", "http://localhost:11434/v1"),
                Map.entry("OPENAI_API_KEY", "sk-test"),
                Map.entry("PARLEY_MODEL", "llama3.2"),
                Map.entry("PARLEY_DEMO_TOKEN_DELAY_MS", "0"),
                Map.entry("PARLEY_RUN_LEASE_SECONDS", "5"),
                Map.entry("PARLEY_LIVENESS_GRACE_MS", "2500"),
                Map.entry("PARLEY_BEHIND_TLS", "true"));

        // when
        DemoConfig config = DemoConfig.fromEnvironment(env);

        // then
        assertThat(config.port()).isEqualTo(8081);
        assertThat(config.dbUrl()).isEqualTo("jdbc:postgresql://127.0.0.1:5432/test");
        assertThat(config.dbUser()).isEqualTo("postgres");
        assertThat(config.dbPassword()).isEqualTo("pw");
        assertThat(config.jwtSecret()).isEqualTo("0123456789abcdef0123456789abcdef");
        assertThat(config.devLogin()).isFalse();
        assertThat(config.rateLimitPerMinute()).isEqualTo(30);
        assertThat(config.corsOrigins()).containsExactly("https://a.example.com", "http://localhost:3000");
        assertThat(config.usesOpenAi()).isTrue();
        assertThat(config.openAiBaseUrl()).isEqualTo("http://localhost:11434/v1");
        assertThat(config.openAiApiKey()).isEqualTo("sk-test");
        assertThat(config.model()).isEqualTo("llama3.2");
        assertThat(config.tokenDelay()).isZero();
        assertThat(config.runLease()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.livenessGrace()).isEqualTo(Duration.ofMillis(2500));
        assertThat(config.behindTls()).isTrue();
    }

    @Test
    void should_turn_the_liveness_check_off_with_a_grace_of_zero() {
        assertThat(DemoConfig.fromEnvironment(Map.of("PARLEY_LIVENESS_GRACE_MS", "0")).livenessGrace()).isZero();
    }

    @Test
    void should_default_the_openai_model_and_keep_secrets_out_of_to_string() {
        DemoConfig config = DemoConfig.fromEnvironment(Map.of("OPENAI_BASE_URL", "https://api.openai.com/v1",
                "OPENAI_API_KEY", "sk-very-secret", "PARLEY_JWT_SECRET", "s3cret-s3cret-s3cret-s3cret-s3cret",
                "PARLEY_DB_PASSWORD", "db-password"));
        assertThat(config.model()).isEqualTo("gpt-4o-mini");
        assertThat(config.toString()).doesNotContain("sk-very-secret", "s3cret", "db-password");
    }

    @Test
    void should_hide_passwords_given_in_the_database_url() {
        DemoConfig config = DemoConfig.fromEnvironment(Map.of("PARLEY_DB_URL",
                "jdbc:postgresql://db/parley?user=app&password=hunter2&ssl=true"));
        assertThat(config.toString()).contains("password=***&ssl=true").doesNotContain("hunter2");
        assertThat(DemoConfig.redacted("jdbc:h2:file:./data/x;PASSWORD=abc;MODE=PostgreSQL"))
                .isEqualTo("jdbc:h2:file:./data/x;PASSWORD=***;MODE=PostgreSQL");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "PARLEY_PORT                | abc                      | PARLEY_PORT must be a whole number from 0 to 65535",
            "PARLEY_PORT                | 70000                    | PARLEY_PORT must be a whole number",
            "PARLEY_DB_URL              | jdbc:mysql://x/y         | PARLEY_DB_URL must be a jdbc:h2: or jdbc:postgresql: URL",
            "PARLEY_JWT_SECRET          | short                    | PARLEY_JWT_SECRET must be at least 32 bytes",
            "PARLEY_DEV_LOGIN           | maybe                    | PARLEY_DEV_LOGIN must be true or false",
            "PARLEY_RATE_LIMIT          | -1                       | PARLEY_RATE_LIMIT must be a whole number",
            "PARLEY_CORS_ORIGINS        | ftp://x                  | PARLEY_CORS_ORIGINS must be an http:// or https:// URL",
            "PARLEY_CORS_ORIGINS        | https://a.example.com/app | no path",
            "OPENAI_BASE_URL            | localhost:11434          | OPENAI_BASE_URL must be an http:// or https:// URL",
            "PARLEY_DEMO_TOKEN_DELAY_MS | fast                     | PARLEY_DEMO_TOKEN_DELAY_MS must be a whole number from 0 to 60000",
            "PARLEY_RUN_LEASE_SECONDS   | 0                        | PARLEY_RUN_LEASE_SECONDS must be a whole number from 1 to 3600",
            "PARLEY_LIVENESS_GRACE_MS   | 50                       | PARLEY_LIVENESS_GRACE_MS must be 0 (off) or a whole number from 100 to 600000, was '50'",
            "PARLEY_LIVENESS_GRACE_MS   | soon                     | PARLEY_LIVENESS_GRACE_MS must be a whole number from 0 to 600000",
            "PARLEY_BEHIND_TLS          | https                    | PARLEY_BEHIND_TLS must be true or false, was 'https'",
            "OPENAI_MAX_TOKENS_PARAMETER | max_output_tokens       | OPENAI_MAX_TOKENS_PARAMETER must be max_completion_tokens or max_tokens",
            "PARLEY_MODEL_PRICES        | gpt-4o-mini=0.15         | PARLEY_MODEL_PRICES must be model=input/output or model=input/output/cached_input entries",
            "PARLEY_MODEL_PRICES        | gpt=1/2/3/4              | was 'gpt=1/2/3/4'",
            "PARLEY_MODEL_PRICES        | gpt=1/2/x                | was 'gpt=1/2/x'",
            "PARLEY_MODEL_PRICES        | gpt=1/2/-0.5             | PARLEY_MODEL_PRICES must be",
            "PARLEY_MODEL_PRICES        | gpt=1/2/                 | PARLEY_MODEL_PRICES must be",
            "PARLEY_MODEL_PRICES        | gpt=a/b                  | was 'gpt=a/b'",
            "PARLEY_MODEL_PRICES        | gpt=-1/2                 | PARLEY_MODEL_PRICES must be",
            "PARLEY_MODEL_PRICES        | =1/2                     | PARLEY_MODEL_PRICES must be",
            "PARLEY_MODEL_PRICES        | a=1/2,a=3/4              | PARLEY_MODEL_PRICES must be",
            "PARLEY_USER_BUDGET_USD     | lots                     | PARLEY_USER_BUDGET_USD must be a non-negative amount",
            "PARLEY_USER_BUDGET_USD     | -5                       | PARLEY_USER_BUDGET_USD must be a non-negative amount",
            "PARLEY_TRASH_RETENTION_DAYS | -1                      | PARLEY_TRASH_RETENTION_DAYS must be a whole number from 0",
            "PARLEY_EVENT_LOG_RETENTION_DAYS | a week           | PARLEY_EVENT_LOG_RETENTION_DAYS must be a whole number from 0",
            "PARLEY_LOG_LEVEL           | verbose                  | PARLEY_LOG_LEVEL must be trace, debug, info, warn or error, was 'verbose'",
            "PARLEY_LOG_FORMAT          | xml                      | PARLEY_LOG_FORMAT must be text or json, was 'xml'",
            "PARLEY_TRACE_CONTENT       | all                      | PARLEY_TRACE_CONTENT must be true or false, was 'all'",
            "PARLEY_OIDC_ISSUER         | id.example               | PARLEY_OIDC_ISSUER must be the provider's issuer, an http:// or https:// URL",
            "PARLEY_OIDC_ISSUER         | https://id.example/?x=1  | PARLEY_OIDC_ISSUER must be the provider's issuer",
            "PARLEY_OIDC_AUDIENCE       | parley                   | PARLEY_OIDC_AUDIENCE needs PARLEY_OIDC_ISSUER",
            "PARLEY_OIDC_CLIENT_ID      | parley-web               | PARLEY_OIDC_CLIENT_ID needs PARLEY_OIDC_ISSUER",
    })
    void should_fail_fast_with_a_message_naming_the_bad_variable(String name, String value, String message) {
        assertThatThrownBy(() -> DemoConfig.fromEnvironment(Map.of(name, value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void should_read_model_prices_a_budget_and_the_trash_and_event_log_retentions() {
        // when
        DemoConfig config = DemoConfig.fromEnvironment(Map.of(
                "PARLEY_MODEL_PRICES", "gpt-4o-mini=0.15/0.60/0.075, llama3.2=0/0",
                "PARLEY_USER_BUDGET_USD", "2.50",
                "PARLEY_TRASH_RETENTION_DAYS", "0",
                "PARLEY_EVENT_LOG_RETENTION_DAYS", "90"));
        // then
        assertThat(config.prices()).containsOnlyKeys("gpt-4o-mini", "llama3.2");
        assertThat(config.prices().get("gpt-4o-mini").inputPerMillion()).isEqualByComparingTo("0.15");
        assertThat(config.prices().get("gpt-4o-mini").outputPerMillion()).isEqualByComparingTo("0.60");
        assertThat(config.prices().get("gpt-4o-mini").cachedInputPerMillion()).isEqualByComparingTo("0.075");
        assertThat(config.prices().get("llama3.2").outputPerMillion()).isEqualByComparingTo("0");
        assertThat(config.prices().get("llama3.2").cachedInputPerMillion()).isEqualByComparingTo("0");
        assertThat(config.userBudgetUsd()).isEqualByComparingTo("2.5");
        assertThat(config.trashRetention()).isZero();
        assertThat(config.eventLogRetention()).isEqualTo(java.time.Duration.ofDays(90));
        DemoConfig defaults = DemoConfig.fromEnvironment(Map.of());
        assertThat(defaults.prices()).isEmpty();
        assertThat(defaults.userBudgetUsd()).isNull();
        assertThat(defaults.trashRetention()).isEqualTo(java.time.Duration.ofDays(30));
        assertThat(defaults.eventLogRetention()).isZero();
    }

    @Test
    void should_read_the_identity_provider_settings_and_turn_the_dev_login_off() {
        DemoConfig config = DemoConfig.fromEnvironment(Map.of(
                "PARLEY_OIDC_ISSUER", "https://id.example/realms/parley",
                "PARLEY_OIDC_AUDIENCE", "parley",
                "PARLEY_OIDC_USER_CLAIM", "oid",
                "PARLEY_OIDC_ROLES_CLAIM", "realm_access.roles",
                "PARLEY_OIDC_ADMIN_ROLE", "parley-admin",
                "PARLEY_OIDC_CLIENT_ID", "parley-web",
                "PARLEY_OIDC_SCOPE", "openid profile parley"));
        DemoOidc oidc = config.oidc();
        assertThat(oidc.issuer()).isEqualTo("https://id.example/realms/parley");
        assertThat(oidc.audience()).isEqualTo("parley");
        assertThat(oidc.claims().userClaim()).isEqualTo("oid");
        assertThat(oidc.claims().rolesClaim()).isEqualTo("realm_access.roles");
        assertThat(oidc.claims().adminRole()).isEqualTo("parley-admin");
        assertThat(oidc.clientId()).isEqualTo("parley-web");
        assertThat(oidc.scope()).isEqualTo("openid profile parley");
        assertThat(oidc.issuerOrigin()).isEqualTo("https://id.example");
        assertThat(config.devLogin()).isFalse();
        DemoOidc defaults = DemoConfig.fromEnvironment(Map.of("PARLEY_OIDC_ISSUER", "https://id.example")).oidc();
        assertThat(defaults.claims()).isEqualTo(dev.parley.adapter.http.ClaimMapping.defaults());
        assertThat(defaults.clientId()).isNull();
        assertThat(defaults.scope()).isEqualTo("openid profile email");
        assertThat(DemoConfig.fromEnvironment(Map.of()).oidc()).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "PARLEY_OIDC_USER_CLAIM  | user id    | PARLEY_OIDC_USER_CLAIM must be a claim name or a dotted path",
            "PARLEY_OIDC_ROLES_CLAIM | realm..roles | PARLEY_OIDC_ROLES_CLAIM must be a claim name or a dotted path",
            "PARLEY_OIDC_CLIENT_ID   | my client  | PARLEY_OIDC_CLIENT_ID must be 1 to 255 printable characters",
            "PARLEY_OIDC_SCOPE       | profile    | PARLEY_OIDC_SCOPE must be space-separated scopes including openid",
            "PARLEY_DEV_LOGIN        | true       | PARLEY_DEV_LOGIN cannot be true with PARLEY_OIDC_ISSUER",
    })
    void should_name_the_bad_identity_provider_variable(String name, String value, String message) {
        assertThatThrownBy(() -> DemoConfig.fromEnvironment(Map.of("PARLEY_OIDC_ISSUER", "https://id.example", name, value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void should_document_exactly_the_variables_it_reads_in_the_readme_table() throws java.io.IOException {
        java.util.regex.Pattern variable = java.util.regex.Pattern.compile("\"((?:PARLEY|OPENAI)_[A-Z_]+)\"");
        java.util.Set<String> read = new java.util.TreeSet<>();
        for (String source : java.util.List.of("DemoConfig.java", "DemoOidc.java", "DemoMcp.java", "DemoLimits.java",
                "DemoObservability.java")) {
            variable.matcher(java.nio.file.Files.readString(java.nio.file.Path.of("src/main/java/dev/parley/examples", source)))
                    .results().forEach(m -> read.add(m.group(1)));
        }
        java.util.Set<String> documented = new java.util.TreeSet<>();
        java.util.regex.Pattern row = java.util.regex.Pattern.compile("(?m)^\\| `((?:PARLEY|OPENAI)_[A-Z_]+)` \\|");
        row.matcher(java.nio.file.Files.readString(java.nio.file.Path.of("README.md"))).results().forEach(m -> documented.add(m.group(1)));
        assertThat(documented).isEqualTo(read);
    }

    @Test
    void should_read_mcp_servers_over_stdio_and_http_with_timeouts_and_approvals() {
        DemoConfig config = DemoConfig.fromEnvironment(Map.of("PARLEY_MCP_SERVERS", """
                [{"name": "files", "command": "npx", "args": ["-y", "some-server", "/srv"], "env": {"TOKEN": "t0p"},
                  "timeout_seconds": 5, "approval": ["write_file"]},
                 {"name": "crm", "url": "https://crm.example.com/mcp", "headers": {"Authorization": "Bearer s3cret"}, "approval": true}]
                """));
        assertThat(config.mcpServers()).hasSize(2);
        var files = config.mcpServers().get(0);
        assertThat(files.isStdio()).isTrue();
        assertThat(files.command()).isEqualTo("npx");
        assertThat(files.args()).containsExactly("-y", "some-server", "/srv");
        assertThat(files.env()).containsEntry("TOKEN", "t0p");
        assertThat(files.timeout()).isEqualTo(java.time.Duration.ofSeconds(5));
        assertThat(files.requiresApproval("write_file")).isTrue();
        assertThat(files.requiresApproval("read_file")).isFalse();
        var crm = config.mcpServers().get(1);
        assertThat(crm.url()).hasToString("https://crm.example.com/mcp");
        assertThat(crm.headers()).containsEntry("Authorization", "Bearer s3cret");
        assertThat(crm.requiresApproval("anything")).isTrue();
        // secrets stay out of logs
        assertThat(config.toString()).contains("files", "crm").doesNotContain("t0p", "s3cret");
        assertThat(DemoConfig.fromEnvironment(Map.of()).mcpServers()).isEmpty();
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {
            "not json",
            "{\"name\": \"a\", \"command\": \"x\"}",
            "[{\"command\": \"x\"}]",
            "[{\"name\": \"a b\", \"command\": \"x\"}]",
            "[{\"name\": \"a\"}]",
            "[{\"name\": \"a\", \"command\": \"x\", \"url\": \"http://h/mcp\"}]",
            "[{\"name\": \"a\", \"url\": \"ftp://h/mcp\"}]",
            "[{\"name\": \"a\", \"command\": \"x\", \"args\": \"-y\"}]",
            "[{\"name\": \"a\", \"command\": \"x\", \"env\": {\"K\": 1}}]",
            "[{\"name\": \"a\", \"command\": \"x\", \"timeout_seconds\": 0}]",
            "[{\"name\": \"a\", \"command\": \"x\", \"approval\": \"all\"}]",
            "[{\"name\": \"a\", \"command\": \"x\", \"cmd\": \"y\"}]",
            "[{\"name\": \"a\", \"command\": \"x\"}, {\"name\": \"a\", \"command\": \"y\"}]",
    })
    void should_stop_on_a_bad_mcp_server_list_naming_the_variable(String value) {
        assertThatThrownBy(() -> DemoConfig.fromEnvironment(Map.of("PARLEY_MCP_SERVERS", value)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("PARLEY_MCP_SERVERS must be a JSON list of");
    }

    @Test
    void should_read_the_log_and_trace_settings() {
        // defaults: info, text, no traces
        DemoObservability defaults = DemoConfig.fromEnvironment(Map.of()).observability();
        assertThat(defaults).isEqualTo(DemoObservability.defaults());
        assertThat(defaults.exportTraces()).isFalse();

        // set
        DemoObservability set = DemoConfig.fromEnvironment(Map.of("PARLEY_LOG_LEVEL", "DEBUG", "PARLEY_LOG_FORMAT", " json ",
                "PARLEY_TRACE_CONTENT", "on", "OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")).observability();
        assertThat(set).isEqualTo(new DemoObservability("debug", "json", true, true));
        assertThat(DemoConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces"))
                .observability().exportTraces()).isTrue();
        assertThat(DemoConfig.fromEnvironment(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318", "OTEL_SDK_DISABLED", "true"))
                .observability().exportTraces()).isFalse();
        assertThat(DemoConfig.fromEnvironment(Map.of("PARLEY_LOG_FORMAT", "json")).toString()).contains("logFormat=json");
    }

    @Test
    void should_treat_blank_values_as_unset() {
        DemoConfig config = DemoConfig.fromEnvironment(Map.of("PARLEY_PORT", " ", "PARLEY_JWT_SECRET", ""));
        assertThat(config.port()).isEqualTo(7070);
        assertThat(config.jwtSecret()).isNull();
    }
}
