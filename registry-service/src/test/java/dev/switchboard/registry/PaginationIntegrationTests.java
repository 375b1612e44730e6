package dev.switchboard.registry;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.util.UriComponentsBuilder;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Lists page by opaque cursor: every item exactly once, in order, however the pages are cut. */
class PaginationIntegrationTests extends RegistryIntegrationTest {

    @Test
    void tenantsPageWithoutGapsOrDuplicates() {
        String prefix = newTenantId();
        List<String> created = IntStream.range(0, 13).mapToObj(i -> prefix + "-" + (char) ('a' + i)).toList();
        created.forEach(this::createTenant);

        List<String> seen = walk("/admin/v1/tenants", 4);
        assertThat(seen).doesNotHaveDuplicates();
        assertThat(seen).containsSubsequence(created);
        assertThat(seen).isSorted();
        assertThat(seen).containsAll(created);
        // a different page size sees the same list
        assertThat(walk("/admin/v1/tenants", 7)).isEqualTo(seen);
    }

    @Test
    void keysAndTopicsPageToo() {
        String t = newTenantId();
        createTenant(t);
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 9; i++) {
            createKey(t, "publish");
            String name = "topic-" + i + (i % 3 == 0 ? ".*" : i % 3 == 1 ? ".>" : ".x");
            names.add(name);
            admin().put().uri("/admin/v1/tenants/{t}/topics/{n}", t, name).contentType(MediaType.APPLICATION_JSON)
                    .bodyValue("{}").exchange().expectStatus().isCreated().expectBody(Void.class);
        }
        List<String> keys = walk("/admin/v1/tenants/" + t + "/keys", 2);
        assertThat(keys).hasSize(9).doesNotHaveDuplicates().isSorted();
        List<String> topics = walk("/admin/v1/tenants/" + t + "/topics", 4);
        assertThat(topics).hasSize(9).doesNotHaveDuplicates().isSorted().containsExactlyInAnyOrderElementsOf(names);
    }

    @Test
    void aPageMayBeFollowedWhileItemsAreAdded() {
        String prefix = newTenantId();
        createTenant(prefix + "-b");
        createTenant(prefix + "-d");
        Map<String, Object> first = getJson(admin(), "/admin/v1/tenants?limit=1&cursor={c}", cursor(prefix + "-a"));
        assertThat(ids(first)).containsExactly(prefix + "-b");
        createTenant(prefix + "-c");
        Map<String, Object> second = getJson(admin(), "/admin/v1/tenants?limit=1&cursor={c}", first.get("nextCursor"));
        assertThat(ids(second)).containsExactly(prefix + "-c");
    }

    @Test
    void defaultLimitIsCappedByTheMaximum() {
        Map<String, Object> page = getJson(admin(), "/admin/v1/tenants");
        assertThat(((List<?>) page.get("items")).size()).isLessThanOrEqualTo(20);
        admin().get().uri("/admin/v1/tenants?limit=20").exchange().expectStatus().isOk().expectBody(Void.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"limit=0", "limit=-1", "limit=21", "limit=abc", "limit=1.5", "limit=99999999999",
            "cursor=%25%25%25", "cursor=bm90LWEtY3Vyc29y", "cursor=YzE6Tk9UIEFOIElE", "cursor="})
    void badLimitsAndCursorsAreRefused(String query) {
        assertProblem(admin().get().uri(UriComponentsBuilder.fromUriString(baseUrl() + "/admin/v1/tenants?" + query)
                .build(true).toUri()).exchange(), HttpStatus.BAD_REQUEST, "invalid_request");
    }

    @Test
    void aCursorOfOneListIsRefusedByAnother() {
        String t = newTenantId();
        createTenant(t);
        // a tenant id is a valid topic name, but a key list only takes key ids
        assertProblem(admin().get().uri("/admin/v1/tenants/{t}/keys?cursor={c}", t, cursor("acme")).exchange(),
                HttpStatus.BAD_REQUEST, "invalid_request");
    }

    private List<String> walk(String path, int limit) {
        List<String> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            Map<String, Object> page = cursor == null
                    ? getJson(admin(), path + "?limit={l}", limit)
                    : getJson(admin(), path + "?limit={l}&cursor={c}", limit, cursor);
            List<String> ids = ids(page);
            assertThat(ids.size()).isLessThanOrEqualTo(limit);
            seen.addAll(ids);
            cursor = (String) page.get("nextCursor");
            if (cursor != null) {
                assertThat(ids).hasSize(limit);
            }
            assertThat(++pages).as("pages").isLessThan(1000);
        } while (cursor != null);
        return seen;
    }

    private static List<String> ids(Map<String, Object> page) {
        return ((List<?>) page.get("items")).stream()
                .map(item -> (Map<?, ?>) item)
                .map(item -> (String) (item.containsKey("id") ? item.get("id") : item.get("name")))
                .toList();
    }

    /** What the API would issue after {@code key}: the format is private, but tests may know it. */
    private static String cursor(String key) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(("c1:" + key).getBytes(StandardCharsets.UTF_8));
    }
}
