package dev.grit.engine.command;

/**
 * Retention: forgets the history of runs that ended before {@code cutoff} (epoch milliseconds) —
 * their attempts, the tasks and resources nothing current needs — and then the objects nothing
 * references any more, whose bytes every member deletes. The proposer chooses the cut-off (its
 * clock less the retention period), so every replica removes the same rows. Applied only under
 * rules version {@link RulesVersion#RETENTION} or later.
 */
public record Gc(long cutoff, long at) implements Command {}
