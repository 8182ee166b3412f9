package dev.grit.consensus.raft;

import dev.grit.consensus.state.Reply;
import dev.grit.engine.command.Command;
import java.util.concurrent.CompletableFuture;

/** Proposes commands to the group: what the leader's scheduling needs of {@link RaftNode}. */
public interface Proposer {
  /**
   * Completes with the apply reply once {@code command} is committed and applied, or
   * exceptionally when it was rejected.
   */
  CompletableFuture<Reply> submit(Command command);
}
