package dev.grit.consensus.raft;

import dev.grit.engine.object.Digest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The leader refused a report because it lacks chunks the report points at and does not carry:
 * the worker had them locally (so did not send them) while the leader does not, having restarted
 * on an empty disk or still repairing after a snapshot install. Nothing was logged; the worker
 * sends the bytes it holds and proposes the report again.
 *
 * <p>Ratis hands a refusal to the client as the exception's class name and message only, so the
 * message is the whole content: {@link #missing} reads the digests back from it.
 */
public final class ChunksMissingException extends IOException {
  private static final String PREFIX = "the leader lacks the chunks ";
  /** Digests named in one refusal: a report asks again for the rest. */
  static final int MAX_NAMED = 4096;

  /** For Ratis, which rebuilds the exception on the client from its message. */
  public ChunksMissingException(String message) {
    super(message);
  }

  static ChunksMissingException of(Collection<Digest> missing) {
    var named = new StringBuilder(PREFIX);
    int n = 0;
    for (Digest d : missing) {
      if (n++ == MAX_NAMED) {
        break;
      }
      named.append(n > 1 ? " " : "").append(d);
    }
    return new ChunksMissingException(named.toString());
  }

  /** The chunks the leader lacks (at most {@link #MAX_NAMED} of them). */
  public List<Digest> missing() {
    String message = getMessage();
    var digests = new ArrayList<Digest>();
    if (message != null && message.startsWith(PREFIX)) {
      for (String hex : message.substring(PREFIX.length()).split(" ")) {
        digests.add(Digest.valueOf(hex));
      }
    }
    return digests;
  }
}
