package dev.grit.engine.command;

/**
 * Raises the record's rules version: from this entry on, every replica applies the rules of
 * {@code version}. Proposed once every member has registered that its code supports it, so a
 * rolling upgrade runs new code under the old rules until the last member is upgraded.
 */
public record RaiseRulesVersion(int version, long at) implements Command {}
