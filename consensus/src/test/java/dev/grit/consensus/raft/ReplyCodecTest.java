package dev.grit.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.state.Reply;
import dev.grit.consensus.state.Reply.AlreadyApplied;
import dev.grit.consensus.state.Reply.AttemptsExpired;
import dev.grit.consensus.state.Reply.ChunksStored;
import dev.grit.consensus.state.Reply.NoSuchRun;
import dev.grit.consensus.state.Reply.NodeRegistered;
import dev.grit.consensus.state.Reply.ReportsApplied;
import dev.grit.consensus.state.Reply.RulesFollowed;
import dev.grit.consensus.state.Reply.SubmissionRefused;
import dev.grit.consensus.state.Reply.RunAlreadyEnded;
import dev.grit.consensus.state.Reply.RunCancelled;
import dev.grit.consensus.state.Reply.RunSubmitted;
import dev.grit.consensus.state.Reply.TasksAssigned;
import dev.grit.consensus.state.RunState;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Replies cross between members of different releases during a rolling upgrade, so their wire
 * form is the text earlier releases sent and parsed: each kind is written exactly so, and read
 * back to the same reply.
 */
class ReplyCodecTest {
  /** Every kind of reply, with the text that releases before typed replies sent for it. */
  static Map<Reply, String> samples() {
    var out = new LinkedHashMap<Reply, String>();
    out.put(new RunSubmitted(7), "run 7");
    out.put(new TasksAssigned(3, 1), "assigned 3 of 4");
    out.put(new TasksAssigned(0, 0), "assigned 0 of 0");
    out.put(new ChunksStored(5), "chunks 5");
    out.put(new ReportsApplied(1, 2), "accepted 1 of 3");
    out.put(new AttemptsExpired(0), "expired 0");
    out.put(new RunCancelled(12), "cancelled run 12");
    out.put(new NoSuchRun(9), "no run 9");
    out.put(new NoSuchRun(-1), "no run -1");
    out.put(new RunAlreadyEnded(2, RunState.CANCELLED), "run 2 already cancelled");
    out.put(new RunAlreadyEnded(3, RunState.SUPERSEDED), "run 3 already superseded");
    out.put(new NodeRegistered("node-1.a_b"), "registered node-1.a_b");
    out.put(new RulesFollowed(2), "rules version 2");
    out.put(new Reply.TasksRetried(12, 3), "retried 3 in run 12");
    out.put(new Reply.TasksRetried(5, 0), "retried 0 in run 5");
    out.put(
        new Reply.RetryRefused("run 3 is not its pipeline's latest run: retry run 5"),
        "retry refused: run 3 is not its pipeline's latest run: retry run 5");
    out.put(
        new SubmissionRefused("the manifest has gather steps (total), which need rules version 2"),
        "refused: the manifest has gather steps (total), which need rules version 2");
    out.put(new AlreadyApplied(), "");
    // Sent only once every member follows retention's rules, so every member reads them.
    out.put(
        new Reply.Collected(2, 40, 3, 17, 19, 12),
        "collected 2 runs 40 attempts 3 tasks 17 resources 19 objects 12 chunks");
    out.put(new Reply.GcNotYet(1), "gc needs newer rules than version 1");
    out.put(new RunSubmitted(Long.MAX_VALUE), "run " + Long.MAX_VALUE);
    return out;
  }

  @Test
  void everyKindIsWrittenAsEarlierReleasesWroteItAndReadBack() {
    samples()
        .forEach(
            (reply, text) -> {
              byte[] bytes = ReplyCodec.encode(reply);
              assertEquals(text, new String(bytes, StandardCharsets.UTF_8), reply::toString);
              assertEquals(reply, ReplyCodec.decode(bytes), text);
            });
  }

  @Test
  void everyKindOfReplyHasASample() {
    var kinds = new java.util.HashSet<Class<?>>();
    samples().keySet().forEach(r -> kinds.add(r.getClass()));
    assertEquals(Reply.class.getPermittedSubclasses().length, kinds.size(), kinds::toString);
  }

  @Test
  void anUnknownOrMalformedReplyIsRefusedWithItsText() {
    for (String text :
        new String[] {
          "run", "run x", "ran 1", "assigned 1", "assigned 5 of 4", "accepted 1 of", "expired -1",
          "run 1 already running", "run 1 already gone", "chunks 99999999999", " run 1", "run 1\n"
        }) {
      var e =
          assertThrows(
              IllegalArgumentException.class,
              () -> ReplyCodec.decode(text.getBytes(StandardCharsets.UTF_8)),
              text);
      assertTrue(e.getMessage().contains("\"" + text + "\""), e.getMessage());
    }
  }

  @Test
  void aReplyOfAnotherKindThanExpectedIsNamed() {
    Reply reply = new NoSuchRun(4);
    assertEquals(reply, reply.as(NoSuchRun.class));
    var e = assertThrows(IllegalStateException.class, () -> reply.as(RunSubmitted.class));
    assertEquals("expected a RunSubmitted reply, got NoSuchRun[runId=4]", e.getMessage());
  }
}
