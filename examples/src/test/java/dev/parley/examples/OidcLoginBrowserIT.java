package dev.parley.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.List;
import java.util.Map;
import java.util.Set;
import no.nav.security.mock.oauth2.MockOAuth2Server;
import no.nav.security.mock.oauth2.OAuth2Config;
import no.nav.security.mock.oauth2.token.DefaultOAuth2TokenCallback;
import no.nav.security.mock.oauth2.token.OAuth2TokenProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

/**
 * The page's sign-in through an identity provider (navikt's mock-oauth2-server with its login
 * form): the authorization code flow with PKCE, a chat with the provider's token, a refreshed
 * token, and the sign-out at the provider.
 */
class OidcLoginBrowserIT extends BrowserTestBase {
    private static MockOAuth2Server provider;

    @BeforeAll
    static void restartWithAnIdentityProvider() throws IOException {
        stop();
        // a provider whose tokens are for the API "parley" (the subject is the name typed in its login form)
        provider = new MockOAuth2Server(new OAuth2Config(true, null, null, false, new OAuth2TokenProvider(),
                Set.of(new DefaultOAuth2TokenCallback("default", "unused", "JWT", List.of("parley"), Map.of(), 3600))));
        provider.start();
        start("0", Map.of(
                "PARLEY_OIDC_ISSUER", provider.issuerUrl("default").toString(),
                "PARLEY_OIDC_AUDIENCE", "parley",
                "PARLEY_OIDC_CLIENT_ID", "parley-web"), options -> { });
        // on a loaded machine the first discovery may time out and be retried
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (status(http, server.url() + "ready") != 200) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the demo never discovered the identity provider");
            }
            LockSupport.parkNanos(50_000_000);
        }
    }

    private static int status(HttpClient http, String url) {
        try {
            return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @AfterAll
    static void stopProvider() {
        if (provider != null) {
            provider.shutdown();
            provider = null;
        }
    }

    @Override
    void beforeReload() {
        js("sessionStorage.clear();");
    }

    private void signInAtTheProvider(String user) {
        WebElement button = await("the provider sign-in button", d -> displayed(By.cssSelector("[data-testid=oidc-login]")));
        assertThat(byTestId("login-user").isDisplayed()).isFalse();
        button.click();
        WebElement name = await("the provider's login form", d -> displayed(By.name("username")));
        name.sendKeys(user);
        driver.findElement(By.cssSelector("input[type=submit]")).click();
        await("the chat view", d -> displayed(By.cssSelector("[data-testid=chat-view]")));
        assertThat(byTestId("user-name").getText()).isEqualTo(user);
    }

    @Test
    void should_sign_in_through_the_provider_chat_with_its_token_and_sign_out_there_too() {
        // when
        signInAtTheProvider("alice");
        send("hello provider");
        // then the API accepted the provider's token
        awaitAssistantText("You said: \"hello provider\" (2 words).");
        assertThat(driver.getCurrentUrl()).doesNotContain("code=").doesNotContain("state=");
        screenshot("signed-in");
        // when
        click("sign-out");
        // then the provider's session ends and the page is back at its sign-in
        await("the sign-in after the provider's sign-out", d -> driver.getCurrentUrl().startsWith(server.url())
                && displayed(By.cssSelector("[data-testid=oidc-login]")) != null);
        assertThat(js("return sessionStorage.getItem('parley.oidc.tokens');")).isNull();
        assertThat(js("return localStorage.getItem('parley.session');")).isNull();
    }

    @Test
    void should_keep_the_session_going_with_a_refreshed_token() {
        // given
        signInAtTheProvider("bob");
        String before = (String) js("return JSON.parse(localStorage.getItem('parley.session')).token;");
        // when the page refreshes its token at the provider
        Object refreshed = ((org.openqa.selenium.JavascriptExecutor) driver).executeAsyncScript(
                "const done = arguments[arguments.length - 1]; window.parleyOidc.refresh().then(done, (e) => done('failed: ' + e.message));");
        // then
        assertThat(refreshed).isEqualTo(true);
        String after = (String) js("return JSON.parse(localStorage.getItem('parley.session')).token;");
        assertThat(after).isNotEqualTo(before);
        send("still here");
        awaitAssistantText("You said: \"still here\" (2 words).");
    }
}
