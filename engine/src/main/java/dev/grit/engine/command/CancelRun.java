package dev.grit.engine.command;

/** Cancels a run: its pending and running tasks end CANCELLED. */
public record CancelRun(long runId, long at) implements Command {}
