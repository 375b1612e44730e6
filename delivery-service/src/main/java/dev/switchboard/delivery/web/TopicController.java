package dev.switchboard.delivery.web;

import dev.switchboard.delivery.topic.TopicListing;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;
import reactor.core.publisher.Mono;

import java.util.List;

/**
 * {@code GET /internal/v1/tenants/{t}/topics?pattern=chat.*&group=…&after=…&limit=…}: the tenant's
 * topics with events that match the pattern, by name ({@link TopicListing}). {@code next} is the
 * {@code after} of the following page, null on the last one.
 */
@RestController
@RequestMapping("/internal/v1/tenants/{tenant}/topics")
class TopicController {

    static final int DEFAULT_LIMIT = 500;

    private final TopicListing listing;

    TopicController(TopicListing listing) {
        this.listing = listing;
    }

    record TopicsResponse(List<TopicListing.Listed> topics, String next) {
    }

    @GetMapping(produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<TopicsResponse> list(@PathVariable String tenant, @RequestParam(required = false) String pattern,
                              @RequestParam(required = false) String group, @RequestParam(required = false) String after,
                              @RequestParam(defaultValue = "" + DEFAULT_LIMIT) int limit) {
        return listing.list(tenant, pattern, group, after, limit).map(topics -> new TopicsResponse(topics,
                topics.size() == limit ? topics.get(topics.size() - 1).topic() : null));
    }
}
