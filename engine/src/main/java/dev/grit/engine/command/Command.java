package dev.grit.engine.command;

/**
 * One entry of the replicated log. Applying a command is a pure function of (state, command):
 * whatever varies — time, chosen node, attempt number, jitter — is chosen by the proposer and
 * carried here as a field.
 */
public sealed interface Command
    permits SubmitRun,
        AssignTasks,
        PutChunks,
        ReportResults,
        ExpireAttempts,
        CancelRun,
        RegisterNode,
        RaiseRulesVersion,
        Gc,
        RetryTasks {}
