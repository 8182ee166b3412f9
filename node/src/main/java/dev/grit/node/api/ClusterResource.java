package dev.grit.node.api;

import dev.grit.consensus.raft.RaftNode;
import dev.grit.node.ClusterStatus;
import dev.grit.node.Node;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /v1/cluster} and the probes. {@code /livez} says only that this process serves HTTP: it
 * must not depend on quorum, or a partitioned member would be restarted for its network's fault.
 * {@code /readyz} says whether reads here are fresh enough to serve: a leader is known and this
 * member has applied nearly all it knows committed (followers count as ready).
 */
final class ClusterResource {
  /** How far applied may trail commit on a ready member. */
  static final long READY_LAG = 1000;

  private final Node node;
  private volatile String httpAddress;

  ClusterResource(Node node) {
    this.node = node;
  }

  /** Known once the server is bound; until then this member's row has none. */
  void setHttpAddress(String httpAddress) {
    this.httpAddress = httpAddress;
  }

  void cluster(Exchange ex) {
    ClusterStatus status = node.cluster();
    // Members register their API address through the log; this member's own is the one it is
    // served on, which an embedded node does not register.
    var registered = new HashMap<String, String>();
    for (var row : node.queries().nodes()) {
      if (!row.httpAddress().isEmpty()) {
        registered.put(row.id(), row.httpAddress());
      }
    }
    registered.put(status.self(), httpAddress);
    var members = new ArrayList<ClusterStatus.Member>();
    for (var m : status.members()) {
      members.add(
          m.httpAddress() != null
              ? m
              : new ClusterStatus.Member(
                  m.id(),
                  m.raftAddress(),
                  registered.get(m.id()),
                  m.leader(),
                  m.live(),
                  m.lastContactMillis(),
                  m.commitIndex(),
                  m.appliedIndex()));
    }
    ex.json(
        HttpResponseStatus.OK,
        new ClusterStatus(status.self(), status.leader(), status.term(), members));
  }

  void livez(Exchange ex) {
    ex.json(HttpResponseStatus.OK, Map.of("status", "ok"));
  }

  void readyz(Exchange ex) {
    RaftNode raft = node.raft();
    String leader = raft.leaderId();
    long commit = raft.commitIndex();
    long applied = raft.lastAppliedIndex();
    var body = new LinkedHashMap<String, Object>();
    String reason = null;
    if (leader == null) {
      reason = "no Raft leader known";
    } else if (applied < 0 || commit - applied > READY_LAG) {
      reason = "applied index " + applied + " trails commit index " + commit;
    }
    if (reason != null) {
      ex.json(HttpResponseStatus.SERVICE_UNAVAILABLE, Json.error("not ready", reason));
      return;
    }
    body.put("status", "ready");
    body.put("leader", leader);
    body.put("commit_index", commit);
    body.put("applied_index", applied);
    ex.json(HttpResponseStatus.OK, body);
  }
}
