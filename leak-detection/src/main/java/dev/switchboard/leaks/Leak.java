package dev.switchboard.leaks;

/**
 * One leak Netty reported: the type of the leaked resource and its access records, newest first,
 * ending with where it was created (empty when the level kept no records: {@code simple}).
 */
public record Leak(String resourceType, String records) {

    /** Frames of the test machinery, left out of {@link #toString()}: they say nothing about the leak. */
    private static final java.util.regex.Pattern MACHINERY = java.util.regex.Pattern.compile(
            "(?m)^\\s+(org\\.junit\\.|org\\.apache\\.maven\\.surefire\\.|java\\.base/jdk\\.internal\\.reflect\\.|java\\.base/java\\.lang\\.reflect\\.).*\\R");

    @Override
    public String toString() {
        return "LEAK of a " + resourceType + (records.isEmpty()
                ? " (no records at this detection level; rerun with -Dnetty.leak.level=paranoid)"
                : ":" + MACHINERY.matcher(records).replaceAll(""));
    }
}
