package dev.grit.consensus.raft;

/**
 * Where unrecoverable errors go: a log entry that cannot be decoded or applied, a storage failure
 * during apply (but for a full disk, which apply waits out: it changed nothing). The replica must
 * stop rather than go on without the entry (that is how replicas silently diverge). The node's
 * handler stops the process; tests record the call.
 */
@FunctionalInterface
public interface FatalErrorHandler {
  void fatal(String what, Throwable cause);
}
