package dev.parley.adapter.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.parley.chat.model.PageRequest;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What a request carries besides its path: the JSON body (size, media type, syntax) and the query and header parameters. */
final class Bodies {
    private static final Logger LOG = LoggerFactory.getLogger(Bodies.class);
    private static final Pattern LIMIT = Pattern.compile("[0-9]{1,4}");
    private static final Pattern SEQ = Pattern.compile("[0-9]{1,18}");
    private static final int MAX_CURSOR_LENGTH = 1024;
    private static final int MAX_IDEMPOTENCY_KEY_LENGTH = 255;
    /** How many times the body limit an oversized body may be before it is no longer read to its end. */
    private static final int DRAIN_FACTOR = 4;

    private final long maxBodyBytes;

    Bodies(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    /**
     * The request body as a JSON object; an absent body is an empty object. 413 over the size limit,
     * 415 for a body that is not {@code application/json} (UTF-8), 400 for text that is not JSON,
     * 422 for JSON that is not an object.
     */
    JsonNode read(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > maxBodyBytes) {
            throw tooLarge(ctx);
        }
        boolean chunked = ctx.header("Transfer-Encoding") != null;
        if (declared == 0 || (declared < 0 && !chunked)) {
            return Json.object();
        }
        byte[] bytes;
        try (InputStream in = ctx.req().getInputStream()) {
            // a declared length is enforced by Jetty, so it sizes the buffer; a chunked body may run over
            bytes = in.readNBytes(declared > 0 ? (int) declared : (int) maxBodyBytes + 1);
        } catch (IOException e) {
            throw new ApiProblem(400, "invalid_body", "The request body could not be read");
        }
        if (bytes.length > maxBodyBytes) {
            throw tooLarge(ctx);
        }
        if (bytes.length == 0) {
            return Json.object();
        }
        requireJsonContentType(ctx.header("Content-Type"));
        return parseBody(bytes);
    }

    /** A non-empty request body as a JSON object: 400 {@code invalid_json} for anything but JSON in UTF-8, 422 when it is not an object. */
    static JsonNode parseBody(byte[] bytes) {
        JsonNode node;
        try {
            node = Json.parse(bytes);
        } catch (JsonProcessingException e) {
            throw new ApiProblem(400, "invalid_json", "The request body is not valid JSON in UTF-8");
        }
        if (node == null || !node.isObject()) {
            throw ApiProblem.field("body", "must be a JSON object");
        }
        return node;
    }

    /**
     * The 413 problem, after reading and dropping what is left of a body of moderate size: a server
     * that closes the connection on unread request bytes makes the client's kernel reset it, and the
     * client may then never see the 413. A body more than {@link #DRAIN_FACTOR} times the limit is
     * not read; the connection is closed instead.
     */
    private ApiProblem tooLarge(Context ctx) {
        long declared = ctx.req().getContentLengthLong();
        long budget = maxBodyBytes * DRAIN_FACTOR;
        if (declared <= budget) {
            try (InputStream in = ctx.req().getInputStream()) {
                byte[] sink = new byte[8192];
                long left = budget;
                for (int n; left > 0 && (n = in.read(sink, 0, (int) Math.min(sink.length, left))) != -1; ) {
                    left -= n;
                }
            } catch (IOException | RuntimeException e) {
                LOG.debug("Could not drain an oversized body: {}", e.toString());
            }
        }
        return tooLarge();
    }

    private ApiProblem tooLarge() {
        return new ApiProblem(413, "payload_too_large", "The request body is larger than " + maxBodyBytes + " bytes");
    }

    private static void requireJsonContentType(String contentType) {
        if (contentType == null) {
            throw unsupported();
        }
        String[] parts = contentType.split(";");
        String type = parts[0].trim().toLowerCase(Locale.ROOT);
        boolean json = type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"));
        if (!json) {
            throw unsupported();
        }
        for (int i = 1; i < parts.length; i++) {
            String[] kv = parts[i].trim().split("=", 2);
            if (kv.length == 2 && kv[0].trim().equalsIgnoreCase("charset")
                    && !kv[1].trim().replace("\"", "").equalsIgnoreCase("utf-8")) {
                throw unsupported();
            }
        }
    }

    private static ApiProblem unsupported() {
        return new ApiProblem(415, "unsupported_media_type", "The request body must be application/json (UTF-8)");
    }

    // ---- parameters ----

    static PageRequest page(Context ctx) {
        int limit = PageRequest.DEFAULT_LIMIT;
        String rawLimit = ctx.queryParam("limit");
        if (rawLimit != null) {
            if (!LIMIT.matcher(rawLimit).matches() || Integer.parseInt(rawLimit) < 1 || Integer.parseInt(rawLimit) > PageRequest.MAX_LIMIT) {
                throw ApiProblem.parameter("limit", "must be an integer from 1 to " + PageRequest.MAX_LIMIT);
            }
            limit = Integer.parseInt(rawLimit);
        }
        String cursor = ctx.queryParam("cursor");
        if (cursor != null && (cursor.length() > MAX_CURSOR_LENGTH || Requests.textProblem(cursor) != null)) {
            throw ApiProblem.parameter("cursor", "is not a cursor this API returned");
        }
        return new PageRequest(limit, cursor);
    }

    static boolean booleanParam(Context ctx, String name) {
        String raw = ctx.queryParam(name);
        if (raw == null || raw.equals("false")) {
            return false;
        }
        if (raw.equals("true")) {
            return true;
        }
        throw ApiProblem.parameter(name, "must be true or false");
    }

    static String idempotencyKey(String raw) {
        if (raw == null) {
            return null;
        }
        if (raw.isEmpty() || raw.length() > MAX_IDEMPOTENCY_KEY_LENGTH || !raw.chars().allMatch(c -> c >= 0x21 && c <= 0x7e)) {
            throw ApiProblem.parameter("Idempotency-Key", "must be 1 to " + MAX_IDEMPOTENCY_KEY_LENGTH + " visible ASCII characters");
        }
        return raw;
    }

    /** The seq a resuming client last received ({@code Last-Event-ID}); 0 without the header. */
    static long lastEventId(Context ctx) {
        String lastEventId = ctx.header("Last-Event-ID");
        if (lastEventId == null || lastEventId.isBlank()) {
            return 0;
        }
        String trimmed = lastEventId.trim();
        if (!SEQ.matcher(trimmed).matches()) {
            throw ApiProblem.parameter("Last-Event-ID", "must be the seq of an event (a non-negative integer)");
        }
        return Long.parseLong(trimmed);
    }

    static boolean acceptsEventStream(String accept) {
        if (accept == null) {
            return false;
        }
        for (String range : accept.split(",")) {
            String type = range.split(";")[0].trim().toLowerCase(Locale.ROOT);
            if (type.equals("text/event-stream")) {
                return true;
            }
        }
        return false;
    }
}
