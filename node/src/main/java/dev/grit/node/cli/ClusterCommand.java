package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code grit cluster ...}: the cluster as its members see it. */
@Command(
    name = "cluster",
    description = "Inspect the cluster.",
    mixinStandardHelpOptions = true,
    subcommands = {ClusterCommand.Status.class, ClusterCommand.AddMember.class, ClusterCommand.RemoveMember.class})
final class ClusterCommand implements Callable<Integer> {
  @Override
  public Integer call() {
    new CommandLine(this).usage(System.err);
    return Main.USAGE;
  }

  /**
   * {@code grit cluster status}: one row per member, like {@code etcdctl endpoint status}. Every
   * server named is asked; a member's own answer gives its commit and applied index, the others are
   * shown as the answering members know them ({@code -} where unknown).
   */
  @Command(
      name = "status",
      description = {
        "Show each member: id, addresses, leader, term, commit and applied index, liveness.",
        "Every server named by --server is asked; exit 3 when none answers."
      },
      mixinStandardHelpOptions = true)
  static final class Status implements Callable<Integer> {
    @Mixin ServerOption server;
    @Mixin OutputOption output;

    @Override
    public Integer call() throws Exception {
      List<URI> named = server.servers();
      Map<String, ObjectNode> rows = new LinkedHashMap<>();
      Deque<URI> toAsk = new ArrayDeque<>(named);
      Set<URI> asked = new HashSet<>();
      ClientException lastFailure = null;
      int answered = 0;
      while (!toAsk.isEmpty()) {
        URI s = toAsk.poll();
        if (!asked.add(s)) {
          continue;
        }
        JsonNode status;
        try {
          status = server.client(List.of(s)).getJson("/v1/cluster");
        } catch (ClientException e) {
          if (named.contains(s)) {
            lastFailure = e;
            System.err.println("grit: " + s + ": " + e.getMessage());
          }
          continue;
        }
        answered++;
        merge(rows, status);
        // Each member knows its own indexes best: ask the ones whose API address is known.
        for (ObjectNode r : rows.values()) {
          if (!r.path("reported_by_self").asBoolean() && r.path("http_address").isTextual()) {
            toAsk.add(URI.create(named.get(0).getScheme() + "://" + r.path("http_address").asText()));
          }
        }
      }
      if (answered == 0) {
        throw lastFailure;
      }
      if (output.json()) {
        ArrayNode array = ApiClient.JSON.createArrayNode();
        rows.values().forEach(array::add);
        OutputOption.printJson(array, System.out);
        return Main.OK;
      }
      var table =
          new Table(
              "ID", "RAFT ADDRESS", "HTTP ADDRESS", "LEADER", "TERM", "COMMIT", "APPLIED", "LIVE");
      for (ObjectNode r : rows.values()) {
        table.row(
            r.path("id").asText(),
            GetCommand.text(r.path("raft_address")),
            GetCommand.text(r.path("http_address")),
            r.path("leader").asBoolean() ? "yes" : "no",
            known(r.path("term")),
            known(r.path("commit_index")),
            known(r.path("applied_index")),
            r.path("live").asBoolean() ? "yes" : "no");
      }
      table.print(System.out);
      return Main.OK;
    }

    /** Adds what one member says; a member's word about itself beats others' about it. */
    private static void merge(Map<String, ObjectNode> rows, JsonNode status) {
      String self = status.path("self").asText();
      for (JsonNode m : status.path("members")) {
        String id = m.path("id").asText();
        boolean own = id.equals(self);
        ObjectNode row = ((ObjectNode) m).deepCopy();
        row.put("term", own ? status.path("term").asLong() : -1);
        ObjectNode known = rows.get(id);
        if (known == null || (own && !known.path("reported_by_self").asBoolean())) {
          row.put("reported_by_self", own);
          if (known != null && row.path("http_address").isNull()) {
            row.set("http_address", known.path("http_address"));
          }
          rows.put(id, row);
        }
      }
    }

    private static String known(JsonNode value) {
      return value.asLong(-1) < 0 ? null : String.valueOf(value.asLong());
    }
  }

  /** {@code grit cluster add-member ID HOST:PORT}: a Raft membership change adding a member. */
  @Command(
      name = "add-member",
      description = {
        "Add a member to the Raft group. Start it first (grit node --id ID --peers <the members and",
        "itself>): it joins by itself when its peers already form a group; this command is for",
        "adding one by hand. Returns once the member is up to date and the change committed."
      },
      mixinStandardHelpOptions = true)
  static final class AddMember implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Parameters(index = "1", paramLabel = "HOST:PORT", description = "Its Raft address.")
    String address;

    @Mixin ServerOption server;

    @Override
    public Integer call() throws Exception {
      ObjectNode body = ApiClient.JSON.createObjectNode().put("id", id).put("address", address);
      var r =
          ApiClient.check(
              server
                  .client()
                  .post(
                      "/v1/cluster/members",
                      ApiClient.JSON.writeValueAsBytes(body),
                      Map.of("Content-Type", "application/json")));
      printMembers(r.json());
      return Main.OK;
    }
  }

  /**
   * {@code grit cluster remove-member ID}: a Raft membership change removing a member; a leader
   * hands leadership over first. The removed process keeps running until it is stopped.
   */
  @Command(
      name = "remove-member",
      description = {
        "Remove a member from the Raft group (leadership moves first when it leads).",
        "Stop its process afterwards."
      },
      mixinStandardHelpOptions = true)
  static final class RemoveMember implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Mixin ServerOption server;

    @Override
    public Integer call() throws Exception {
      var r = ApiClient.check(server.client().delete("/v1/cluster/members/" + id));
      printMembers(r.json());
      return Main.OK;
    }
  }

  private static void printMembers(JsonNode answer) {
    var table = new Table("ID", "RAFT ADDRESS");
    for (JsonNode m : answer.path("members")) {
      table.row(m.path("id").asText(), m.path("raft_address").asText());
    }
    table.print(System.out);
  }
}
