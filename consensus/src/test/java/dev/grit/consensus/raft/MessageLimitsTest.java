package dev.grit.consensus.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.grit.consensus.testing.MiniCluster;
import dev.grit.engine.command.RegisterNode;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.Test;

/** A proposal larger than a command may be is refused before it is logged; the group goes on. */
class MessageLimitsTest {
  @Test
  void anOversizedProposalIsRefusedAndTheGroupGoesOn() throws Exception {
    MiniCluster.runWithNewCluster(
        1,
        cluster -> {
          RaftNode leader = cluster.leader();
          long before = leader.commitIndex();
          // The proposing member refuses it; a larger one would not even reach the state machine.
          for (int size :
              new int[] {RaftNode.MAX_COMMAND_BYTES, RaftNode.MAX_COMMAND_BYTES + (8 << 20)}) {
            var data = ByteString.copyFrom(new byte[size]);
            var e =
                assertThrows(
                    ExecutionException.class,
                    () ->
                        leader
                            .submit(new RegisterNode("big", "", 1, 1), data)
                            .get(60, TimeUnit.SECONDS));
            assertInstanceOf(CommandRejectedException.class, e.getCause());
            assertTrue(
                e.getCause().getMessage().contains("larger than the"), e.getCause().getMessage());
          }

          // Another client (an older member) past the proposer's check: the leader refuses it
          // before logging.
          try (var client = cluster.newClient()) {
            byte[] header = CommandCodec.encode(new RegisterNode("raw", "", 1, 1));
            var message =
                ByteString.copyFrom(header)
                    .concat(ByteString.copyFrom(new byte[RaftNode.MAX_COMMAND_BYTES]));
            var e =
                assertThrows(
                    Exception.class,
                    () -> client.io().send(org.apache.ratis.protocol.Message.valueOf(message)));
            assertInstanceOf(org.apache.ratis.protocol.exceptions.StateMachineException.class, e);
            assertTrue(e.getMessage().contains("larger than the"), e.getMessage());
          }

          assertEquals(before, leader.commitIndex(), "nothing was logged");
          leader.submit(new RegisterNode("small", "", 1, 1)).get(60, TimeUnit.SECONDS);
          assertEquals(1, cluster.stateMachine(0).queries().nodes().size());
        });
  }
}
