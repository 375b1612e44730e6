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
 * server has done the work, the client sees a dropped connection and cannot know whether it did.
 * Test code: plain blocking threads, two per connection.
 */
final class CuttingProxy implements AutoCloseable {

    private final ServerSocket server;
    private final int targetPort;
    private final AtomicInteger toCut = new AtomicInteger();
    private final AtomicInteger cut = new AtomicInteger();
    private final AtomicInteger connections = new AtomicInteger();

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

    /** Responses cut so far. */
    int cut() {
        return cut.get();
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
                Socket upstream = new Socket();
                upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2000);
                pump(client, upstream, false);
                pump(upstream, client, true);
            } catch (IOException e) {
                // closed
            }
        }
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
