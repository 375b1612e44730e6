package dev.switchboard.platform.http;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.reactor.netty.NettyServerCustomizer;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import reactor.core.publisher.Mono;
import reactor.netty.DisposableServer;
import reactor.netty.http.server.HttpServer;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A keep-alive connection keeps serving after a request that arrived during the previous exchange
 * was answered at once: the case Reactor Netty 1.3.6 leaves unread (reactor/reactor-netty#4361).
 * A raw socket, so the requests go exactly as written: the second one in the same packet as the
 * first, before the first (answered after a delay) has finished.
 */
class KeepAliveReadRearmIntegrationTests {

    private DisposableServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.disposeNow();
        }
    }

    @Test
    void aConnectionKeepsReadingAfterAQueuedRequestIsAnsweredAtOnce() throws IOException {
        server = start(new KeepAliveReadRearm().apply(server()));
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(5_000);
            for (int round = 0; round < 20; round++) {
                send(socket, get("/slow") + post("/fast", "x".repeat(100)));
                assertThat(readResponse(socket)).as("round %d, the slow answer", round).endsWith("slow");
                assertThat(readResponse(socket)).as("round %d, the queued answer", round).endsWith("fast");
                send(socket, get("/fast"));
                assertThat(readResponse(socket)).as("round %d, the next request on the connection", round)
                        .endsWith("fast");
            }
        }
    }

    /** The bug this works around, shown without it; when this fails, Reactor Netty is fixed and the handler can go. */
    @Test
    void withoutTheHandlerTheSameConnectionStalls() throws IOException {
        server = start(server());
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout(2_000);
            send(socket, get("/slow") + get("/fast"));
            assertThat(readResponse(socket)).endsWith("slow");
            assertThat(readResponse(socket)).endsWith("fast");
            send(socket, get("/fast"));
            boolean stalled;
            try {
                readResponse(socket);
                stalled = false;
            } catch (SocketTimeoutException e) {
                stalled = true;
            }
            assertThat(stalled).as("Reactor Netty still stalls a connection in this case").isTrue();
        }
    }

    @Test
    void everyReactiveServiceGetsTheHandler() {
        new ReactiveWebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(HttpServerAutoConfiguration.class))
                .run(context -> assertThat(context.getBeansOfType(NettyServerCustomizer.class).values())
                        .hasExactlyElementsOfTypes(KeepAliveReadRearm.class, DecodingFailureProblems.class));
    }

    private static HttpServer server() {
        return HttpServer.create().host("127.0.0.1").port(0)
                .handle((request, response) -> request.uri().equals("/slow")
                        ? response.sendString(Mono.delay(Duration.ofMillis(50)).thenReturn("slow"))
                        : response.sendString(Mono.just("fast")));
    }

    private static DisposableServer start(HttpServer server) {
        return server.bindNow(Duration.ofSeconds(10));
    }

    private static String get(String path) {
        return "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
    }

    private static String post(String path, String body) {
        return "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: text/plain\r\nContent-Length: "
                + body.length() + "\r\n\r\n" + body;
    }

    private static void send(Socket socket, String requests) throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(requests.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    /** One response: its head, then a chunked or length-delimited body, returned as head + body. */
    private static String readResponse(Socket socket) throws IOException {
        InputStream in = socket.getInputStream();
        String head = readLine(in);
        int length = -1;
        boolean chunked = false;
        for (String line = readLine(in); !line.isEmpty(); line = readLine(in)) {
            String lower = line.toLowerCase();
            if (lower.startsWith("content-length:")) {
                length = Integer.parseInt(lower.substring("content-length:".length()).trim());
            } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        StringBuilder body = new StringBuilder();
        if (chunked) {
            for (int size = Integer.parseInt(readLine(in).trim(), 16); size > 0;
                 size = Integer.parseInt(readLine(in).trim(), 16)) {
                body.append(new String(in.readNBytes(size), StandardCharsets.UTF_8));
                readLine(in);
            }
            readLine(in);
        } else if (length >= 0) {
            body.append(new String(in.readNBytes(length), StandardCharsets.UTF_8));
        }
        return head + "\n" + body;
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                throw new IOException("connection closed mid-response");
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }
}
