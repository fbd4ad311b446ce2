package dev.parley.adapter.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What a store built from a URL adds to an H2 URL, and what it leaves to the URL's own settings. */
class H2UrlTest {

    @Test
    void should_keep_an_in_memory_database_open_and_its_statements_prepared() {
        assertThat(JdbcChatStores.adjust("jdbc:h2:mem:chat")).isEqualTo("jdbc:h2:mem:chat;DB_CLOSE_DELAY=-1;QUERY_CACHE_SIZE=64");
    }

    @Test
    void should_keep_a_file_databases_statements_prepared() {
        assertThat(JdbcChatStores.adjust("jdbc:h2:file:./data/parley")).isEqualTo("jdbc:h2:file:./data/parley;QUERY_CACHE_SIZE=64");
    }

    @Test
    void should_leave_settings_the_url_names_as_they_are() {
        assertThat(JdbcChatStores.adjust("jdbc:h2:mem:chat;db_close_delay=10;query_cache_size=4"))
                .isEqualTo("jdbc:h2:mem:chat;db_close_delay=10;query_cache_size=4");
    }

    @Test
    void should_leave_a_postgresql_url_alone() {
        assertThat(JdbcChatStores.adjust("jdbc:postgresql://127.0.0.1:5432/test")).isEqualTo("jdbc:postgresql://127.0.0.1:5432/test");
    }
}
