package dev.switchboard.client;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback TCP proxy to one port that, while {@link #cutNextResponses} says so, lets the request
 * through to the server but resets the connection the moment the response starts to come back: the
 * server has done the work, the client sees a dropped connection and cannot know whether it did;
 * and, while {@link #unavailableNext} says so, answers a request itself with {@code 503 unavailable}
 * without forwarding it, as a balancer with no healthy backend does.
 * Test code: plain blocking threads, two per connection.
 */
final class CuttingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final int targetPort;
    private final AtomicInteger toCut = new AtomicInteger();
    private final AtomicInteger cut = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();
    private final AtomicInteger toRefuse = new AtomicInteger();
    private final AtomicInteger refused = new AtomicInteger();
    /** Every byte sent upstream (requests are small in these tests), to count requests by their path. */
    private final StringBuffer sent = new StringBuffer();

    CuttingProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "cutting-proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** The next {@code n} responses (on whichever connections) are cut as they begin. */
    void cutNextResponses(int n) {
        toCut.set(n);
    }

    /** The next {@code n} connections get a {@code 503} problem for their first request, which goes nowhere. */
    void unavailableNext(int n) {
        toRefuse.set(n);
    }

    /** Requests answered {@code 503} so far. */
    int refused() {
        return refused.get();
    }

    /** Responses cut so far. */
    int cut() {
        return cut.get();
    }

    /** Requests sent upstream so far whose path ends with {@code suffix} (for example {@code /ack}). */
    int requests(String suffix) {
        return sent.toString().split(java.util.regex.Pattern.quote(suffix + " HTTP/1.1"), -1).length - 1;
    }

    /** Connections accepted so far. */
    int connections() {
        return connections.get();
    }

    @Override
    public void close() throws IOException {
        server.close();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                connections.incrementAndGet();
                if (toRefuse.getAndUpdate(c -> Math.max(0, c - 1)) > 0) {
                    answerUnavailable(client);
                    continue;
                }
                Socket upstream = new Socket();
                upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2000);
                pump(client, upstream, false);
                pump(upstream, client, true);
            } catch (IOException e) {
                // closed
            }
        }
    }

    /** Reads one request (headers, then Content-Length bytes) and answers 503 with a problem body. */
    private void answerUnavailable(Socket client) {
        Thread thread = new Thread(() -> {
            try (client) {
                InputStream in = client.getInputStream();
                StringBuilder head = new StringBuilder();
                while (!head.toString().endsWith("\r\n\r\n")) {
                    int b = in.read();
                    if (b < 0) {
                        return;
                    }
                    head.append((char) b);
                }
                long length = 0;
                for (String line : head.toString().split("\r\n")) {
                    if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                        length = Long.parseLong(line.substring(15).trim());
                    }
                }
                in.readNBytes((int) length);
                byte[] body = "{\"type\":\"urn:switchboard:problem:unavailable\",\"title\":\"Unavailable\",\"status\":503,\"code\":\"unavailable\",\"detail\":\"no backend\"}"
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8);
                OutputStream out = client.getOutputStream();
                out.write(("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
                        + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                        .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
                out.write(body);
                out.flush();
                refused.incrementAndGet();
            } catch (IOException e) {
                // the client went away
            }
        }, "cutting-proxy-503");
        thread.setDaemon(true);
        thread.start();
    }

    private void pump(Socket from, Socket to, boolean responses) throws IOException {
        InputStream in = from.getInputStream();
        OutputStream out = to.getOutputStream();
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try {
                int n;
                while ((n = in.read(buffer)) >= 0) {
                    if (responses && toCut.getAndUpdate(c -> Math.max(0, c - 1)) > 0) {
                        cut.incrementAndGet();
                        reset(from, to);
                        return;
                    }
                    if (!responses) {
                        sent.append(new String(buffer, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1));
                    }
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (IOException e) {
                // reset or closed
            }
            reset(from, to);
        }, "cutting-proxy-" + (responses ? "down" : "up"));
        thread.setDaemon(true);
        thread.start();
    }

    private static void reset(Socket a, Socket b) {
        for (Socket s : new Socket[] {a, b}) {
            try {
                s.setSoLinger(true, 0);
            } catch (IOException ignored) {
                // already closed
            }
            try {
                s.close();
            } catch (IOException ignored) {
                // already closed
            }
        }
    }
}
