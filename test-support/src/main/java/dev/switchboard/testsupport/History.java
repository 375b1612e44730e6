package dev.switchboard.testsupport;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A record of a run under faults, checked the way Jepsen's queue checker does it (issue #16): every
 * publish attempt and how it was answered, and every event each subscriber saw, in the order it saw
 * them. {@link #check()} then counts, per subscriber that followed the topic from its start:
 * <ul>
 * <li><b>lost</b>: acknowledged (the producer got its seq) but never seen;</li>
 * <li><b>duplicated</b>: seen more than once;</li>
 * <li><b>reordered</b>: seen after an event with a higher seq (one partition: seqs must only rise);</li>
 * <li><b>recovered</b>: seen, though its publish was never acknowledged (an answer lost to the fault: allowed,
 *     since the event may have been committed; counted so a run shows how often it happens);</li>
 * <li><b>unexpected</b>: seen, though nobody ever tried to publish it.</li>
 * </ul>
 * The bar for a fault test: 0 lost, 0 duplicated, 0 reordered and 0 unexpected for every subscriber.
 * Thread-safe: producers and subscribers record concurrently.
 */
public final class History {

    /** What became of one event id's publish attempts: the seq it was acknowledged with, if any. */
    private final Map<String, Long> acknowledged = new ConcurrentHashMap<>();
    private final Set<String> attempted = ConcurrentHashMap.newKeySet();
    private final Map<String, List<Seen>> seen = new ConcurrentHashMap<>();

    private record Seen(String id, long seq) {
    }

    /** The counts of one subscriber's view. */
    public record Verdict(int saw, int lost, int duplicated, int reordered, int recovered, int unexpected) {
        /** No acknowledged event lost, none seen twice or out of order, nothing that was never published. */
        public boolean ok() {
            return lost == 0 && duplicated == 0 && reordered == 0 && unexpected == 0;
        }
    }

    /** The whole run: what was acknowledged, and each subscriber's verdict. */
    public record Report(int attempted, int acknowledged, Map<String, Verdict> subscribers) {
        public boolean ok() {
            return subscribers.values().stream().allMatch(Verdict::ok);
        }

        /** The subscribers whose verdict is not {@link Verdict#ok()}, with it. */
        public Map<String, Verdict> faulty() {
            Map<String, Verdict> faulty = new TreeMap<>();
            subscribers.forEach((name, verdict) -> {
                if (!verdict.ok()) {
                    faulty.put(name, verdict);
                }
            });
            return faulty;
        }

        /** One line for a test's output: the totals over every subscriber. */
        public String summary() {
            int lost = 0, duplicated = 0, reordered = 0, recovered = 0, unexpected = 0;
            for (Verdict v : subscribers.values()) {
                lost += v.lost();
                duplicated += v.duplicated();
                reordered += v.reordered();
                recovered += v.recovered();
                unexpected += v.unexpected();
            }
            return String.format(Locale.ROOT, "%d publishes attempted, %d acknowledged; over %d subscribers: "
                            + "%d lost, %d duplicated, %d reordered, %d recovered (unacknowledged but delivered), %d unexpected",
                    attempted, acknowledged, subscribers.size(), lost, duplicated, reordered, recovered, unexpected);
        }
    }

    /** A publish of {@code id} is about to be sent (again, for a retry with the same id). */
    public void attempt(String id) {
        attempted.add(id);
    }

    /** A publish of {@code id} was answered with {@code seq}: the platform promises it is stored. */
    public void acknowledge(String id, long seq) {
        attempted.add(id);
        Long before = acknowledged.putIfAbsent(id, seq);
        if (before != null && before != seq) {
            throw new IllegalStateException("event " + id + " acknowledged with seq " + before + " and then " + seq);
        }
    }

    /** {@code subscriber} was handed event {@code id} with {@code seq}. */
    public void see(String subscriber, String id, long seq) {
        seen.computeIfAbsent(subscriber, s -> Collections.synchronizedList(new ArrayList<>())).add(new Seen(id, seq));
    }

    /** A subscriber that has not seen anything yet still counts: register it (every acknowledged event is then lost to it). */
    public void subscriber(String subscriber) {
        seen.computeIfAbsent(subscriber, s -> Collections.synchronizedList(new ArrayList<>()));
    }

    /** The ids acknowledged so far, with their seqs. */
    public Map<String, Long> acknowledged() {
        return Map.copyOf(acknowledged);
    }

    public Report check() {
        Map<String, Verdict> verdicts = new LinkedHashMap<>();
        Map<String, Long> acked = Map.copyOf(acknowledged);
        Set<String> tried = Set.copyOf(attempted);
        new TreeMap<>(seen).forEach((subscriber, events) -> {
            List<Seen> view;
            synchronized (events) {
                view = List.copyOf(events);
            }
            Map<String, Integer> counts = new HashMap<>();
            Set<String> distinct = new HashSet<>();
            int duplicated = 0;
            int reordered = 0;
            int recovered = 0;
            int unexpected = 0;
            long highest = Long.MIN_VALUE;
            for (Seen event : view) {
                if (counts.merge(event.id(), 1, Integer::sum) > 1) {
                    duplicated++;
                    continue;
                }
                distinct.add(event.id());
                if (event.seq() < highest) {
                    reordered++;
                }
                highest = Math.max(highest, event.seq());
                if (!acked.containsKey(event.id())) {
                    if (tried.contains(event.id())) {
                        recovered++;
                    } else {
                        unexpected++;
                    }
                }
            }
            int lost = (int) acked.keySet().stream().filter(id -> !distinct.contains(id)).count();
            verdicts.put(subscriber, new Verdict(view.size(), lost, duplicated, reordered, recovered, unexpected));
        });
        return new Report(tried.size(), acked.size(), verdicts);
    }
}
