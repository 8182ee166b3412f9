package dev.grit.node.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.grit.consensus.raft.RaftNode;
import dev.grit.node.ClusterStatus;
import dev.grit.node.Node;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /v1/cluster} and the probes. {@code /livez} says only that this process serves HTTP: it
 * must not depend on quorum, or a partitioned member would be restarted for its network's fault (a
 * replica that failed to store or apply an entry stops its process instead). {@code /readyz} says
 * whether reads here are fresh enough to serve: the replica has not failed (its Raft log or state
 * machine), a leader is known and this member has applied nearly all it knows committed
 * (followers count as ready).
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

  /**
   * One member as {@code /v1/cluster} shows it: its {@link ClusterStatus.Member} fields, then the
   * attempt slots it registered (0 until it has) and how many of them run attempts now.
   */
  record MemberJson(
      String id,
      String raftAddress,
      String httpAddress,
      boolean leader,
      boolean live,
      long lastContactMillis,
      long commitIndex,
      long appliedIndex,
      int slots,
      int slotsInUse) {}

  record ClusterJson(String self, String leader, long term, List<MemberJson> members) {}

  void cluster(Exchange ex) {
    ClusterStatus status = node.cluster();
    // Members register their API address through the log; this member's own is the one it is
    // served on, which an embedded node does not register.
    var registered = new HashMap<String, String>();
    var slots = new HashMap<String, Integer>();
    for (var row : node.queries().nodes()) {
      if (!row.httpAddress().isEmpty()) {
        registered.put(row.id(), row.httpAddress());
      }
      slots.put(row.id(), row.slots());
    }
    registered.put(status.self(), httpAddress);
    var inUse = node.queries().assignedByNode();
    var members = new ArrayList<MemberJson>();
    for (var m : status.members()) {
      members.add(
          new MemberJson(
              m.id(),
              m.raftAddress(),
              m.httpAddress() != null ? m.httpAddress() : registered.get(m.id()),
              m.leader(),
              m.live(),
              m.lastContactMillis(),
              m.commitIndex(),
              m.appliedIndex(),
              slots.getOrDefault(m.id(), 0),
              inUse.getOrDefault(m.id(), List.of()).size()));
    }
    ex.json(
        HttpResponseStatus.OK,
        new ClusterJson(status.self(), status.leader(), status.term(), members));
  }

  /**
   * {@code POST /v1/cluster/members} with {@code {"id": ..., "address": "host:port"}}: adds a
   * member through a Raft membership change. The new member must already run, started with the
   * group's members and itself; the call returns once the leader has brought it up to date and
   * committed the new membership.
   */
  void addMember(Exchange ex) {
    JsonNode body;
    try {
      body = Json.MAPPER.readTree(ex.bodyText());
    } catch (IOException e) {
      throw ApiException.badRequest("malformed JSON", e.getMessage());
    }
    String id = body == null ? "" : body.path("id").asText("");
    String address = body == null ? "" : body.path("address").asText("");
    int colon = address.lastIndexOf(':');
    if (!id.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,62}")) {
      throw ApiException.badRequest("bad member id", "id must be 1-63 letters, digits, '.', '_' or '-'");
    }
    int port;
    try {
      port = colon > 0 ? Integer.parseInt(address.substring(colon + 1)) : -1;
    } catch (NumberFormatException e) {
      port = -1;
    }
    if (port < 1 || port > 65535) {
      throw ApiException.badRequest("bad member address", "address must be host:port, not \"" + address + "\"");
    }
    var peer = new RaftNode.Peer(id, address.substring(0, colon), port);
    try {
      var current = node.raft().membership().members();
      for (var m : current) {
        if (m.id().equals(id) && !m.address().equals(peer.address())) {
          throw ApiException.conflict("member exists", id + " is a member at " + m.address());
        }
      }
      node.raft().membership().addMember(peer);
      ex.json(HttpResponseStatus.OK, members());
    } catch (IOException e) {
      throw ApiException.unavailable("membership change failed", e.getMessage());
    }
  }

  /** {@code DELETE /v1/cluster/members/{id}}: removes a member; a leader hands over first. */
  void removeMember(Exchange ex) {
    String id = ex.param("id");
    try {
      node.raft().membership().removeMember(id);
      ex.json(HttpResponseStatus.OK, members());
    } catch (IllegalArgumentException e) {
      throw ApiException.notFound("no such member", e.getMessage());
    } catch (IOException e) {
      throw ApiException.unavailable("membership change failed", e.getMessage());
    }
  }

  private Map<String, Object> members() throws IOException {
    var list = new ArrayList<Map<String, String>>();
    for (var m : node.raft().membership().members()) {
      list.add(Map.of("id", m.id(), "raft_address", m.address()));
    }
    return Map.of("members", list);
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
    String reason = raft.failure();
    if (reason != null) {
      // reported as is
    } else if (leader == null) {
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
