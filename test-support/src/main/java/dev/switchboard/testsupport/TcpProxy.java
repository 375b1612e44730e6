package dev.switchboard.testsupport;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A loopback TCP proxy standing in for the network (between a browser and the gateways, a balancer,
 * or between two services, or a service and PostgreSQL): it forwards to one gateway port (which {@link #retarget} changes for new connections),
 * and breaks the connections it carries the two ways networks do — {@link #cutAll()} resets them,
 * {@link #blackholeAll()} leaves them open but silently drops every byte (a half-open connection) —
 * and while {@link #refuse} is on it resets every new connection at once, as a balancer with no
 * healthy backend does, noting when each was tried.
 * Test code: plain blocking threads, two per connection.
 */
public final class TcpProxy implements AutoCloseable {

    private final ServerSocket server;
    private final Set<Link> links = ConcurrentHashMap.newKeySet();
    private volatile int targetPort;
    private volatile boolean refusing;
    private final List<Long> refusedAt = new CopyOnWriteArrayList<>();

    public TcpProxy(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "tcp-proxy-" + server.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    public String url() {
        return "http://127.0.0.1:" + server.getLocalPort();
    }

    /** The loopback port it listens on. */
    public int port() {
        return server.getLocalPort();
    }

    /** New connections go to this port; open ones stay where they are. */
    public void retarget(int port) {
        targetPort = port;
    }

    /** While on, new connections are reset as soon as they are accepted; open ones stay as they are. */
    public void refuse(boolean on) {
        refusing = on;
    }

    /** When each refused connection arrived ({@link System#currentTimeMillis()}), in order. */
    public List<Long> refusedAt() {
        return List.copyOf(refusedAt);
    }

    /** Resets every open connection (RST both ways), as a dropped network path does. */
    public void cutAll() {
        links.forEach(Link::reset);
    }

    /** Open connections stay open but carry nothing any more, either way; new ones work. */
    public void blackholeAll() {
        links.forEach(link -> link.blackholed = true);
    }

    @Override
    public void close() throws IOException {
        server.close();
        cutAll();
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket client = server.accept();
                if (refusing) {
                    refusedAt.add(System.currentTimeMillis());
                    client.setSoLinger(true, 0);
                    client.close();
                    continue;
                }
                Socket upstream = new Socket();
                try {
                    upstream.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), 2000);
                } catch (IOException e) {
                    client.close();
                    continue;
                }
                Link link = new Link(client, upstream);
                links.add(link);
                link.start();
            } catch (IOException e) {
                // closed
            }
        }
    }

    private final class Link {
        private final Socket client;
        private final Socket upstream;
        private volatile boolean blackholed;

        Link(Socket client, Socket upstream) {
            this.client = client;
            this.upstream = upstream;
        }

        void start() throws IOException {
            pump(client.getInputStream(), upstream.getOutputStream(), "up");
            pump(upstream.getInputStream(), client.getOutputStream(), "down");
        }

        private void pump(InputStream in, OutputStream out, String direction) {
            Thread thread = new Thread(() -> {
                byte[] buffer = new byte[16384];
                try {
                    int n;
                    while ((n = in.read(buffer)) >= 0) {
                        if (!blackholed) {
                            out.write(buffer, 0, n);
                            out.flush();
                        }
                    }
                } catch (IOException e) {
                    // reset or closed
                }
                if (!blackholed) {
                    close();
                }
            }, "tcp-proxy-" + direction);
            thread.setDaemon(true);
            thread.start();
        }

        void reset() {
            try {
                client.setSoLinger(true, 0);
                upstream.setSoLinger(true, 0);
            } catch (IOException e) {
                // already closed
            }
            close();
        }

        private void close() {
            links.remove(this);
            try {
                client.close();
            } catch (IOException ignored) {
                // nothing left to do
            }
            try {
                upstream.close();
            } catch (IOException ignored) {
                // nothing left to do
            }
        }
    }
}
