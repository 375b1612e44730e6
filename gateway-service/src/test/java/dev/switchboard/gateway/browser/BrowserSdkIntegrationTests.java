package dev.switchboard.gateway.browser;

import dev.switchboard.gateway.TestPlatform;
import dev.switchboard.testsupport.TcpProxy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.ScriptTimeoutException;
import org.openqa.selenium.TimeoutException;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.springframework.context.ConfigurableApplicationContext;
import tools.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The browser SDK ({@code /sdk/switchboard.js}) and the demo page in real headless Chromium against
 * the real platform (registry, delivery, three gateways in dev mode, PostgreSQL). Network failures
 * are real too: the browser reaches the gateways through a {@link TcpProxy} that resets connections,
 * black-holes them, or (as a load balancer during a deploy) sends new connections to another gateway
 * while the old one shuts down gracefully.
 *
 * <p>Gateway 0 serves the demo-page tests, gateway 1 is shut down by the reconnect-frame test (its
 * clients move to gateway 2); the restart test starts a gateway of its own and shuts it down. Each test uses its own topic, so every one starts at seq 1.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class BrowserSdkIntegrationTests {

    static final String TENANT = "sdkdemo";
    static final String[] GATEWAY_ARGS = {
            "--switchboard.gateway.dev=true",
            "--switchboard.gateway.websocket.ping-interval=1s",
            "--switchboard.gateway.websocket.upstream-linger=300ms",
            "--switchboard.gateway.websocket.shutdown-jitter=300ms"};

    static TestPlatform platform;
    static TestPlatform.Key publisher;
    static Chromium chromium;

    @BeforeAll
    static void start() {
        Chromium.assumeInstalled();
        platform = TestPlatform.start(3, GATEWAY_ARGS);
        platform.createTenant(TENANT);
        platform.declareTopic(TENANT, "demo.>", Map.of());
        publisher = platform.createKey(TENANT, "publish", "subscribe");
        chromium = Chromium.start();
    }

    @AfterAll
    static void stop() {
        if (chromium != null) {
            chromium.close();
        }
        if (platform != null) {
            platform.close();
        }
    }

    // ---- the demo page ----

    @Test
    void demoPageShowsEveryEventOnceInOrderAcrossResetAndHalfOpenConnections() throws Exception {
        try (TcpProxy proxy = new TcpProxy(port(0))) {
            WebDriver page = chromium.driver();
            page.get(proxy.url() + "/");
            setField("tenant", TENANT);
            setField("topic", "demo.page");
            setField("user", "selenium");
            page.findElement(By.id("connect")).click();
            await("connected", d -> "connected".equals(d.findElement(By.id("state")).getAttribute("data-state")));
            page.findElement(By.id("subscribe")).click();
            await("subscribed", d -> log().contains("subscribed to demo.page"));

            // One event published from the page itself: the SDK's publish, shown with its seq.
            page.findElement(By.id("publish")).click();
            await("published seq 1", d -> log().contains("published to demo.page: seq 1"));
            publish("demo.page", 19);
            await("20 events", d -> pageSeqs().size() >= 20);

            // Events keep coming while the connection is reset, then black-holed (no close at all:
            // only the missing pong tells). The page must resume and show each event once.
            CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 20; i++) {
                    publish("demo.page", 2);
                    pause(60);
                }
            });
            pause(300);
            proxy.cutAll();
            await("resumed after the reset", d -> count(log(), "resumed demo.page after ") >= 1);
            proxy.blackholeAll();
            producer.get(60, TimeUnit.SECONDS);
            await("resumed after the half-open connection", d -> count(log(), "resumed demo.page after ") >= 2);
            // One more event behind all of them: once it is shown, anything duplicated would be too.
            publish("demo.page", 1);
            await("61 events", d -> pageSeqs().contains(61L));

            assertThat(pageSeqs()).as("console:\n%s\nlog:\n%s", chromium.console(), log()).isEqualTo(range(1, 61));
            assertThat(log()).contains("error timeout: No pong");
        }
    }

    @Test
    void theAskPanelStreamsAnAnswerAndAReloadMidAnswerShowsItWholeAndOnce() {
        TestPlatform.Key admin = platform.createKey(TENANT, "admin");
        // The page's demo-ask pipeline, with a long answer (echo: 20 ms a token) so the reload lands mid-answer.
        String words = "durable answers resume after a reload ".repeat(30).strip();
        platform.gatewayClient(0).put().uri("/v1/pipelines/demo-ask").header("Authorization", admin.bearer())
                .contentType(org.springframework.http.MediaType.parseMediaType("application/yaml")).bodyValue("""
                        trigger: {topic: demo.ask, types: [demo.question]}
                        output: demo.answers
                        steps:
                          - {id: ask, type: prompt, template: "You asked: {{data.text}}"}
                          - {id: draft, type: model, input: ask, provider: echo, model: echo-1}
                        """).exchange().expectStatus().isCreated().expectBody().returnResult();
        awaitTriggerGroup("demo.ask", "wf-demo-ask");
        WebDriver page = chromium.driver();
        page.get(platform.gatewayUrl(0) + "/?tenant=" + TENANT + "&user=asker");
        page.findElement(By.id("connect")).click();
        await("connected", d -> "connected".equals(d.findElement(By.id("state")).getAttribute("data-state")));
        setField("question", words);
        page.findElement(By.id("ask")).click();
        String expected = "You asked: " + words;
        await("the answer to start", d -> d.findElement(By.id("answer")).getText().length() > 20);
        String before = page.findElement(By.id("answer")).getText();
        assertThat(page.findElement(By.id("answer")).getAttribute("data-complete")).as("still streaming when reloaded").isNull();
        assertThat(expected).startsWith(before.strip());

        page.navigate().refresh();
        await("the whole answer after the reload", d -> "true".equals(d.findElement(By.id("answer")).getAttribute("data-complete")));
        assertThat(page.findElement(By.id("answer")).getText().strip()).as("log:\n%s\nconsole:\n%s", log(), chromium.console())
                .isEqualTo(expected);
        assertThat(log()).contains("resuming the answer to your question", "answer complete (run ");
        assertThat(page.findElement(By.id("answer-state")).getText()).isEqualTo("complete");
        // Nothing pending after the answer: another reload starts nothing.
        assertThat(js().executeScript("return sessionStorage.getItem('switchboard.demo.ask');")).isNull();
    }

    @Test
    void theSdkAssemblesAnAnswerFromTokensDroppingARetractedAttempt() {
        // The events of a run, published by hand in the order a retried model step sends them.
        String run = "run-" + java.util.UUID.randomUUID();
        List<String> events = new ArrayList<>();
        java.util.function.BiFunction<String, String, String> event = (type, data) -> "{\"type\":\"" + type
                + "\",\"correlationid\":\"" + run + "\",\"causationid\":\"q-7\",\"data\":{\"run\":\"" + run + "\"," + data + "}}";
        events.add(event.apply("ai.token", "\"step\":\"d\",\"attempt\":1,\"index\":0,\"text\":\"wrong \""));
        events.add(event.apply("ai.retracted", "\"step\":\"d\",\"attempt\":1"));
        events.add(event.apply("ai.token", "\"step\":\"d\",\"attempt\":2,\"index\":0,\"text\":\"right \""));
        events.add(event.apply("ai.token", "\"step\":\"d\",\"attempt\":1,\"index\":1,\"text\":\"late\""));
        events.add(event.apply("ai.token", "\"step\":\"d\",\"attempt\":2,\"index\":1,\"text\":\"answer\""));
        events.add("{\"type\":\"ai.token\",\"correlationid\":\"other\",\"causationid\":\"q-8\",\"data\":{\"run\":\"other\",\"step\":\"d\",\"attempt\":1,\"index\":0,\"text\":\"NOT MINE\"}}");
        events.add(event.apply("ai.completed", "\"answer\":\"right answer\""));
        platform.publishBatch(0, publisher, "demo.sdk-answer", events);
        chromium.driver().get(platform.gatewayUrl(0) + "/sdk/switchboard.d.ts");
        Object result = runAsync("""
                const done = arguments[arguments.length - 1];
                (async () => {
                  const { connect } = await import("/sdk/switchboard.js");
                  const client = connect({ token: () => devToken({ subscribe: ["demo.>"] }) });
                  const answer = client.answer("demo.sdk-answer", { cause: "q-7" });
                  const seen = [];
                  for await (const text of answer) seen.push(text);
                  const final = await answer.done;
                  client.close();
                  return { seen, final, run: answer.run, text: answer.text };
                })().then(done, e => done(String(e && e.stack || e)));
                """ + DEV_TOKEN_FUNCTION);
        assertThat(result).as("%s", result).isInstanceOf(Map.class);
        Map<String, Object> answer = map(result);
        assertThat(answer.get("final")).isEqualTo("right answer");
        assertThat(answer.get("text")).isEqualTo("right answer");
        assertThat(answer.get("run")).isEqualTo(run);
        assertThat(list(answer.get("seen"))).last().isEqualTo("right answer");
        assertThat(list(answer.get("seen"))).allSatisfy(t -> assertThat((String) t).doesNotContain("late", "NOT MINE"));
    }

    @Test
    void twoAnswersOnOneTopicShareASubscriptionAndOneThatJoinsLaterMissesNothing() {
        String topic = "demo.shared-answers";
        java.util.function.BiFunction<String, String, String> event = (run, rest) -> "{\"type\":\"" + rest.split("\\|")[0]
                + "\",\"correlationid\":\"" + run + "\",\"causationid\":\"c-" + run + "\",\"data\":{\"run\":\"" + run + "\"," + rest.split("\\|")[1] + "}}";
        // Run a has streamed a token and is still going; run b has finished.
        platform.publishBatch(0, publisher, topic, List.of(
                event.apply("a", "ai.token|\"step\":\"d\",\"attempt\":1,\"index\":0,\"text\":\"answer \""),
                event.apply("b", "ai.token|\"step\":\"d\",\"attempt\":1,\"index\":0,\"text\":\"answer B\""),
                event.apply("b", "ai.completed|\"answer\":\"answer B\"")));
        chromium.driver().get(platform.gatewayUrl(0) + "/sdk/switchboard.d.ts");
        Object joined = runAsync("""
                const done = arguments[arguments.length - 1];
                (async () => {
                  const { connect } = await import("/sdk/switchboard.js");
                  const client = window.sharedClient = connect({ token: () => devToken({ subscribe: ["demo.>"] }) });
                  const a = window.sharedA = client.answer("%s", { cause: "c-a" });
                  while (!a.text) await new Promise(r => setTimeout(r, 20));
                  // b joins the same subscription after its events have all gone by.
                  const b = client.answer("%s", { cause: "c-b" });
                  return { b: await b.done, aText: a.text, aEnded: a.ended };
                })().then(done, e => done(String(e && e.stack || e)));
                """.formatted(topic, topic) + DEV_TOKEN_FUNCTION);
        assertThat(joined).as("%s", joined).isInstanceOf(Map.class);
        assertThat(map(joined)).containsEntry("b", "answer B").containsEntry("aText", "answer ").containsEntry("aEnded", false);

        platform.publishBatch(0, publisher, topic, List.of(
                event.apply("a", "ai.token|\"step\":\"d\",\"attempt\":1,\"index\":1,\"text\":\"A\""),
                event.apply("a", "ai.completed|\"answer\":\"answer A\"")));
        Object finished = runAsync("""
                const done = arguments[arguments.length - 1];
                window.sharedA.done.then(answer => { window.sharedClient.close(); done(answer); }, e => done(String(e)));
                """);
        assertThat(finished).isEqualTo("answer A");
    }

    /** Waits until workflow-service's consumer group of a trigger exists (it starts at the events after its first poll). */
    private static void awaitTriggerGroup(String topic, String group) {
        org.springframework.test.web.reactive.server.WebTestClient delivery = org.springframework.test.web.reactive.server.WebTestClient
                .bindToServer().baseUrl(platform.deliveryUrl()).defaultHeader("Authorization", "Bearer " + TestPlatform.SERVICE_TOKEN).build();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (delivery.get().uri("/internal/v1/tenants/{t}/topics/{topic}/groups/{g}", TENANT, topic, group)
                .exchange().returnResult(Void.class).getStatus().value() != 200) {
            assertThat(System.nanoTime()).as("the trigger group %s to appear", group).isLessThan(deadline);
            pause(100);
        }
    }

    @Test
    void demoPageTakesTenantTopicAndUserFromItsAddressAndShowsEventsPublishedOverRest() {
        WebDriver page = chromium.driver();
        page.get(platform.gatewayUrl(0) + "/?tenant=" + TENANT + "&topic=demo.address&user=reader");
        assertThat(page.findElement(By.id("user")).getAttribute("value")).isEqualTo("reader");
        page.findElement(By.id("connect")).click();
        await("connected", d -> "connected".equals(d.findElement(By.id("state")).getAttribute("data-state")));
        page.findElement(By.id("subscribe")).click();
        await("subscribed", d -> log().contains("subscribed to demo.address"));
        // What the README has a backend do: publish over REST with the tenant's API key.
        publish("demo.address", 3);
        await("3 events", d -> pageSeqs().size() >= 3);
        assertThat(pageSeqs()).isEqualTo(range(1, 3));
        assertThat(page.findElement(By.id("events")).getText()).contains("#1 p0 rest: m0", "#3 p0 rest: m2");
    }

    @Test
    void demoPageShowsWhyTheTokenEndpointRefusedAndDoesNotAskAgain() {
        WebDriver page = chromium.driver();
        page.get(platform.gatewayUrl(0) + "/");
        setField("tenant", "nope");
        page.findElement(By.id("connect")).click();
        // The registry's own words, from the problem's detail, instead of a guess.
        await("the problem's detail", d -> d.findElement(By.id("problem")).getText().contains("Tenant 'nope' not found"));
        await("closed", d -> "closed".equals(d.findElement(By.id("state")).getAttribute("data-state")));
        // A retry cannot make the tenant exist: in 3 s the old backoff (250 ms, doubling) would have asked 3-4 times more.
        pause(3000);
        assertThat(tokenRequests()).as("POST /dev/token requests; log:\n%s", log()).isEqualTo(1);
        assertThat(log()).contains("Tenant 'nope' not found").doesNotContain("not in development mode", "reconnecting");
        assertThat(page.findElement(By.id("connect")).isEnabled()).as("connect again, with another tenant").isTrue();
    }

    // ---- the server's close codes, as a browser sees them ----

    @Test
    void aBrowserSeesTheServersCloseCodesInACleanClose() {
        chromium.driver().get(platform.gatewayUrl(0) + "/");
        Map<?, ?> result = map(runAsync("""
                const done = arguments[arguments.length - 1];
                const ws = new WebSocket(location.origin.replace("http", "ws") + "/v1/ws");
                const frames = [];
                ws.onopen = () => ws.send(JSON.stringify({ op: "connect", id: 1, token: "not-a-jwt" }));
                ws.onmessage = m => frames.push(JSON.parse(m.data));
                ws.onclose = e => done({ code: e.code, clean: e.wasClean, frames });
                """));
        assertThat(result.get("code")).as("%s; console %s", result, chromium.console()).isEqualTo(4001L);
        assertThat(result.get("clean")).isEqualTo(true);
        assertThat(((java.util.List<?>) result.get("frames"))).singleElement()
                .satisfies(f -> assertThat(map(f)).containsEntry("op", "error").containsEntry("code", "unauthenticated"));
    }

    // ---- the SDK alone ----

    @Test
    void publishResolvesWithTheSeqAndRejectsWithTheServersErrorCode() {
        chromium.driver().get(platform.gatewayUrl(0) + "/");
        Map<?, ?> result = map(runAsync("""
                const done = arguments[arguments.length - 1];
                (async () => {
                  const { connect } = await import("/sdk/switchboard.js");
                  const token = await devToken({ subscribe: ["demo.>"], publish: ["demo.pub"] });
                  const client = connect({ token });
                  await client.ready();
                  const first = await client.publish("demo.pub", { type: "t", data: { n: 1 } });
                  const second = await client.publish("demo.pub", { type: "t", id: "fixed-id", data: { n: 2 } });
                  const again = await client.publish("demo.pub", { type: "t", id: "fixed-id", data: { n: 2 } });
                  const refused = await client.publish("demo.other", { type: "t" }).then(() => "resolved", e => e.code);
                  client.close();
                  const closed = await client.publish("demo.pub", { type: "t" }).then(() => "resolved", e => e.code);
                  return { first, second, again, refused, closed, state: client.state };
                })().then(done, e => done({ failed: String(e && e.stack || e) }));
                """ + DEV_TOKEN_FUNCTION));
        assertThat(result.get("failed")).isNull();
        assertThat(map(result.get("first"))).containsEntry("seq", 1L).containsEntry("partition", 0L)
                .containsEntry("duplicate", false).containsEntry("topic", "demo.pub");
        assertThat(map(result.get("second"))).containsEntry("seq", 2L).containsEntry("eventId", "fixed-id");
        assertThat(map(result.get("again"))).containsEntry("seq", 2L).containsEntry("duplicate", true);
        assertThat(result.get("refused")).isEqualTo("forbidden");
        assertThat(result.get("closed")).isEqualTo("closed");
        assertThat(result.get("state")).isEqualTo("closed");
    }

    @Test
    void reconnectFrameOfAGatewayShuttingDownIsHonouredAndTheClientResumesOnAnother() throws Exception {
        try (TcpProxy balancer = new TcpProxy(port(1))) {
            // The page comes through the "load balancer" too, so the SDK's default URL points at it.
            chromium.driver().get(balancer.url() + "/");
            startRecorder("demo.deploy", "{ subscribe: [\"demo.>\"], publish: [] }");
            awaitScript("subscribed", "return window.t.log.includes('subscribed');");
            publish("demo.deploy", 10);
            awaitScript("10 events", "return window.t.events.length >= 10;");

            CompletableFuture<Void> producer = CompletableFuture.runAsync(() -> {
                for (int i = 0; i < 15; i++) {
                    publish("demo.deploy", 2);
                    pause(50);
                }
            });
            balancer.retarget(port(2));
            platform.gateway(1).close(); // graceful: reconnect frames, then the sockets close
            producer.get(60, TimeUnit.SECONDS);
            publish("demo.deploy", 1);
            awaitScript("41 events", "return window.t.events.includes(41);");

            Map<?, ?> t = map(js().executeScript("return window.t;"));
            assertThat(list(t.get("events"))).as("log %s", t.get("log")).isEqualTo(range(1, 41));
            assertThat(list(t.get("log"))).as("log").anyMatch(l -> l.toString().startsWith("reconnect shutdown "))
                    .anyMatch(l -> l.toString().startsWith("resumed "))
                    .noneMatch(l -> l.toString().startsWith("error"));
        }
    }

    @Test
    void afterAnAnnouncedRestartTheClientIsBackWithinAboutASecondOfThePlatformHoweverLongItWasDown() throws Exception {
        ConfigurableApplicationContext restarting = platform.startGateway(GATEWAY_ARGS);
        try (TcpProxy balancer = new TcpProxy(port(restarting))) {
            chromium.driver().get(balancer.url() + "/");
            startRecorder("demo.restart", "{ subscribe: [\"demo.>\"], publish: [] }");
            awaitScript("subscribed", "return window.t.log.includes('subscribed');");
            publish("demo.restart", 5);
            awaitScript("5 events", "return window.t.events.length >= 5;");

            // The platform restarts: its gateway announces it (reconnect shutdown, close 1012), then for
            // 10 s nothing answers behind the balancer. Events keep being published meanwhile.
            balancer.refuse(true);
            long down = System.currentTimeMillis();
            restarting.close();
            for (int i = 0; i < 5; i++) {
                publish("demo.restart", 2);
                pause(1000);
            }
            pause(Math.max(0, down + 10_000 - System.currentTimeMillis()));
            balancer.retarget(port(0));
            balancer.refuse(false);
            long up = System.currentTimeMillis();
            awaitScript("connected again", "return window.t.connectedAt.length >= 2;");
            publish("demo.restart", 1);
            awaitScript("16 events", "return window.t.events.includes(16);");

            Map<?, ?> t = map(js().executeScript("return window.t;"));
            long back = ((Number) list(t.get("connectedAt")).get(1)).longValue();
            List<Long> tries = new ArrayList<>(balancer.refusedAt());
            tries.add(back);
            List<Long> gaps = new ArrayList<>();
            for (int i = 1; i < tries.size(); i++) {
                gaps.add(tries.get(i) - tries.get(i - 1));
            }
            String story = "down at 0, up at %d ms, attempts at %s, connected at %d ms; log %s".formatted(up - down,
                    tries.stream().map(at -> at - down).toList(), back - down, t.get("log"));
            assertThat(list(t.get("log"))).as(story).anyMatch(l -> l.toString().startsWith("reconnect shutdown "));
            // Retried every 0.5-1.5 s throughout (plus the handshake, for the last); a backoff that doubles
            // waits 4-8 s once within those 10 s, whatever its jitter.
            assertThat(gaps).as(story).isNotEmpty().allMatch(gap -> gap < 3000);
            // Hence back within about a second of the platform (a doubling backoff: up to 16 s after).
            assertThat(back - up).as(story).isLessThan(3000);
            assertThat(list(t.get("events"))).as(story).isEqualTo(range(1, 16));
        }
    }

    @Test
    void aClose1012AloneAnnouncesARestartTooAndTheShortIntervalEndsWithItsWindow() {
        chromium.driver().get(platform.gatewayUrl(0) + "/");
        // A stand-in WebSocket: the first connects, gets `connected` and then close 1012 without a
        // reconnect frame (as a proxy in front of the gateway might send); every later one fails at once.
        Map<?, ?> result = map(runAsync("""
                const done = arguments[arguments.length - 1];
                (async () => {
                  const { connect } = await import("/sdk/switchboard.js");
                  let sockets = 0, restartAt;
                  window.WebSocket = class {
                    static OPEN = 1;
                    constructor() {
                      this.readyState = 0;
                      const first = ++sockets === 1;
                      setTimeout(() => {
                        this.readyState = first ? 1 : 3;
                        first ? this.onopen() : this.onclose({ code: 1006, reason: "" });
                      }, 5);
                    }
                    send(text) {
                      const frame = JSON.parse(text);
                      if (frame.op !== "connect") return;
                      setTimeout(() => this.onmessage({ data: JSON.stringify({ op: "connected", id: frame.id, session: "s1", pingInterval: 25 }) }), 5);
                      setTimeout(() => { this.readyState = 3; restartAt = performance.now(); this.onclose({ code: 1012, reason: "restart" }); }, 30);
                    }
                    close() { this.readyState = 3; }
                  };
                  const client = connect({ token: "x.e30.y", url: "ws://127.0.0.1:9/v1/ws",
                    reconnectDelayMs: 50, restartRetryDelayMs: 100, restartRetryWindowMs: 1500 });
                  const delays = [];
                  client.addEventListener("reconnecting", e => delays.push({ at: performance.now() - restartAt, delayMs: e.detail.delayMs }));
                  await new Promise(r => setTimeout(r, 3500));
                  client.close();
                  return { delays, sockets };
                })().then(done, e => done({ failed: String(e && e.stack || e) }));
                """));
        assertThat(result.get("failed")).isNull();
        List<Map<String, Object>> delays = list(result.get("delays")).stream().map(BrowserSdkIntegrationTests::map).toList();
        List<Long> inWindow = delays.stream().filter(d -> ((Number) d.get("at")).doubleValue() < 1400)
                .map(d -> ((Number) d.get("delayMs")).longValue()).toList();
        List<Long> after = delays.stream().filter(d -> ((Number) d.get("at")).doubleValue() > 1600)
                .map(d -> ((Number) d.get("delayMs")).longValue()).toList();
        // In the window: restartRetryDelayMs ±50 %, every time (a backoff from 50 ms would reach 200 ms by the 4th).
        assertThat(inWindow).as("%s", delays).hasSizeGreaterThanOrEqualTo(8).allMatch(d -> d >= 50 && d <= 150);
        // After it: the doubling backoff again, from twice restartRetryDelayMs (100-200, 200-400, 400-800,
        // ...): growing, but not at once at the cap (maxReconnectDelayMs, 30 s).
        assertThat(after).as("%s", delays).hasSizeGreaterThanOrEqualTo(3).isSorted().allMatch(d -> d >= 100);
        assertThat(after.get(after.size() - 1)).as("%s", delays).isBetween(400L, 3200L);
    }

    @Test
    void aTokenCallbackIsCalledBeforeExpiryAndTheSocketIsRefreshedInPlace() {
        chromium.driver().get(platform.gatewayUrl(0) + "/");
        // 3-second tokens: replaced a fifth of their lifetime before exp, i.e. about every 2.4 s, by a
        // connect frame on the open socket: the same session throughout, no replay, no reconnect.
        startRecorder("demo.refresh", "{ subscribe: [\"demo.>\"], publish: [], ttlSeconds: 3 }");
        awaitScript("subscribed", "return window.t.log.includes('subscribed');");
        publish("demo.refresh", 5);
        awaitScript("two refreshes", "return window.t.tokens >= 3 && window.t.log.filter(l => l === 'tokenrefresh').length >= 2;");
        publish("demo.refresh", 5);
        awaitScript("10 events", "return window.t.events.includes(10);");

        Map<?, ?> t = map(js().executeScript("return window.t;"));
        assertThat(list(t.get("events"))).isEqualTo(range(1, 10));
        assertThat(list(t.get("sessions"))).as("one socket throughout").hasSize(1);
        assertThat(list(t.get("log"))).as("log").contains("tokenrefresh")
                .noneMatch(l -> l.toString().startsWith("error") || l.toString().startsWith("reconnecting"));
    }

    @Test
    void aRefusedTokenClosesTheClientWithoutRetryingButACallbackGetsOneMoreTryUnlessItGivesUp() {
        chromium.driver().get(platform.gatewayUrl(0) + "/");
        Map<?, ?> result = map(runAsync("""
                const done = arguments[arguments.length - 1];
                (async () => {
                  const { connect } = await import("/sdk/switchboard.js");
                  const good = await devToken({ subscribe: ["demo.>"] });
                  const forged = good.slice(0, -4) + (good.endsWith("AAAA") ? "BBBB" : "AAAA");

                  const fixed = connect({ token: forged });
                  const events = [];
                  ["reconnecting", "error", "closed"].forEach(type => fixed.addEventListener(type, e => events.push(type)));
                  const refused = await fixed.ready().then(() => "connected", e => e.code);
                  await new Promise(r => setTimeout(r, 500)); // would it try again? it must not

                  let calls = 0;
                  const retried = connect({ token: async () => ++calls === 1 ? forged : good });
                  const second = await retried.ready().then(() => retried.state, e => e.code);
                  retried.close();

                  // A callback that knows a retry cannot help says so: the client closes at once.
                  let hopelessCalls = 0;
                  const hopeless = connect({ token: async () => { hopelessCalls++; throw Object.assign(new Error("no such tenant"), { retryable: false }); } });
                  const gaveUp = await hopeless.ready().then(() => "connected", e => e.code + ": " + e.message);
                  await new Promise(r => setTimeout(r, 500));
                  return { refused, state: fixed.state, events, second, calls, gaveUp, hopelessCalls, hopelessState: hopeless.state };
                })().then(done, e => done({ failed: String(e && e.stack || e) }));
                """ + DEV_TOKEN_FUNCTION));
        assertThat(result.get("failed")).isNull();
        assertThat(result.get("refused")).isEqualTo("unauthenticated");
        assertThat(result.get("state")).isEqualTo("closed");
        assertThat(list(result.get("events"))).containsExactly("error", "closed");
        assertThat(result.get("second")).isEqualTo("connected");
        assertThat(result.get("calls")).isEqualTo(2L);
        assertThat(result.get("gaveUp")).isEqualTo("token: The token callback failed: no such tenant");
        assertThat(result.get("hopelessCalls")).isEqualTo(1L);
        assertThat(result.get("hopelessState")).isEqualTo("closed");
    }

    // ---- helpers ----

    /** Defines devToken(claims) in the page: POST /dev/token for the test tenant. */
    static final String DEV_TOKEN_FUNCTION = """
            async function devToken(claims) {
              const response = await fetch("/dev/token", { method: "POST", headers: { "Content-Type": "application/json" },
                body: JSON.stringify({ tenant: "%s", sub: "selenium", ...claims }) });
              if (!response.ok) throw new Error("dev token: " + response.status);
              return (await response.json()).token;
            }
            """.formatted(TENANT);

    /**
     * Starts a client in the page that records into {@code window.t}: every event's seq, a log of
     * what the SDK reported, the sessions it connected with and how many tokens it fetched.
     */
    private void startRecorder(String topic, String tokenClaims) {
        Object failed = runAsync("""
                const done = arguments[arguments.length - 1];
                (async () => {
                  const { connect } = await import("/sdk/switchboard.js");
                  const t = window.t = { events: [], log: [], sessions: [], connectedAt: [], tokens: 0 };
                  const client = connect({ token: async () => { t.tokens++; return devToken(%s); } });
                  client.addEventListener("connected", e => { t.sessions.push(e.detail.session); t.connectedAt.push(Date.now()); });
                  client.addEventListener("reconnect", e => t.log.push("reconnect " + e.detail.reason + " " + e.detail.delayMs));
                  client.addEventListener("tokenrefresh", () => t.log.push("tokenrefresh"));
                  client.addEventListener("error", e => t.log.push("error " + e.detail.code + " " + e.detail.message));
                  client.addEventListener("subscribed", e => t.log.push(e.detail.resumed ? "resumed " + JSON.stringify(e.detail.after) : "subscribed"));
                  client.subscribe("%s", event => t.events.push(event.seq), { after: 0 });
                })().then(() => done(null), e => done(String(e && e.stack || e)));
                """.formatted(tokenClaims, topic) + DEV_TOKEN_FUNCTION);
        assertThat(failed).isNull();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    private static List<Object> list(Object value) {
        return (List<Object>) value;
    }

    /** Runs an async script (it calls arguments[last] when done); on a timeout, the failure shows the page's console. */
    private static Object runAsync(String script) {
        try {
            return js().executeAsyncScript(script);
        } catch (ScriptTimeoutException e) {
            throw new AssertionError("script timed out; console:\n" + chromium.console(), e);
        }
    }

    private static JavascriptExecutor js() {
        return chromium.driver();
    }

    private static void setField(String id, String value) {
        var field = chromium.driver().findElement(By.id(id));
        field.clear();
        field.sendKeys(value);
    }

    private static String log() {
        return chromium.driver().findElement(By.id("log")).getText();
    }

    /** The page's requests to /dev/token so far (Resource Timing records every fetch, whatever its status). */
    private static long tokenRequests() {
        return (Long) js().executeScript(
                "return performance.getEntriesByType('resource').filter(e => new URL(e.name).pathname === '/dev/token').length;");
    }

    @SuppressWarnings("unchecked")
    private static List<Long> pageSeqs() {
        return (List<Long>) js().executeScript("return [...document.querySelectorAll('#events li')].map(li => Number(li.dataset.seq));");
    }

    private static void await(String what, Function<WebDriver, Boolean> condition) {
        try {
            new WebDriverWait(chromium.driver(), Duration.ofSeconds(30), Duration.ofMillis(50)).until(condition::apply);
        } catch (TimeoutException e) {
            throw new AssertionError("waiting for " + what + "; log:\n" + safeLog() + "\nconsole:\n" + chromium.console(), e);
        }
    }

    private static void awaitScript(String what, String script) {
        try {
            new WebDriverWait(chromium.driver(), Duration.ofSeconds(30), Duration.ofMillis(50))
                    .until(d -> Boolean.TRUE.equals(js().executeScript(script)));
        } catch (TimeoutException e) {
            throw new AssertionError("waiting for " + what + "; window.t = " + js().executeScript("return JSON.stringify(window.t);")
                    + "\nconsole:\n" + chromium.console(), e);
        }
    }

    private static String safeLog() {
        try {
            return log();
        } catch (RuntimeException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** Publishes n events over REST (one batch) through gateway 0. */
    private static void publish(String topic, int n) {
        List<String> events = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            events.add("{\"type\":\"demo.message\",\"data\":{\"user\":\"rest\",\"text\":\"m" + i + "\"}}");
        }
        platform.publishBatch(0, publisher, topic, events);
    }

    private static int port(int gateway) {
        return port(platform.gateway(gateway));
    }

    private static int port(ConfigurableApplicationContext gateway) {
        return Integer.parseInt(gateway.getEnvironment().getProperty("local.server.port"));
    }

    private static List<Long> range(long from, long to) {
        return TestPlatform.seqsAfter(from - 1, to);
    }

    private static int count(String text, String part) {
        int n = 0;
        for (int i = text.indexOf(part); i >= 0; i = text.indexOf(part, i + 1)) {
            n++;
        }
        return n;
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
