package dev.grit.node.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.grit.engine.object.Digest;
import dev.grit.node.testing.Grit;
import dev.grit.node.testing.NodeProcesses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three real {@code grit node} processes: submit to any, read from every one. */
@Tag("slow")
class ProcessClusterTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;

  /** name=hash lines of every resource named in {@code names}, as {@code grit export} prints them. */
  static TreeSet<String> exported(Grit grit, String server, String... names) throws Exception {
    var set = new TreeSet<String>();
    for (String name : names) {
      var args = server == null ? new String[] {"export", name, "--db", "db"} : new String[] {"export", name, "--server", server};
      var r = grit.run(args);
      assertEquals(0, r.exit(), r::toString);
      for (String line : r.out().split("\n")) {
        String[] f = line.split("\t");
        set.add(f[1] + "=" + f[0]);
      }
    }
    return set;
  }

  @Test
  void aRunSubmittedToAFollowerIsReadableFromEveryNode() throws Exception {
    Path manifest = dir.resolve("fan.toml");
    Files.writeString(manifest, ClusterRunTest.MANIFEST);
    try (var cluster = NodeProcesses.start(dir.resolve("cluster"), 3)) {
      var grit = cluster.grit(dir);
      var submitted = grit.run("submit", manifest.toString(), "--server", cluster.url(1), "--wait");
      assertEquals(0, submitted.exit(), () -> submitted + "\n" + cluster.tail(0) + "\n" + cluster.tail(1));

      var status = grit.run("cluster", "status", "--server", cluster.url(2));
      assertEquals(0, status.exit(), status::toString);
      for (int i = 0; i < 3; i++) {
        assertTrue(status.out().contains(cluster.id(i)), status::toString);
      }

      var expected = exported(grit, cluster.url(0), "part_1", "upper", "size");
      for (int i = 0; i < 3; i++) {
        // The command was asked once above; every member answers the API it uses alike.
        var listed = new TreeSet<String>();
        for (String name : List.of("part_1", "upper", "size")) {
          for (JsonNode r : JSON.readTree(cluster.get(i, "/v1/resources?name=" + name))) {
            listed.add(r.path("name").asText() + "=" + r.path("hash").asText());
          }
        }
        assertEquals(expected, listed, cluster.id(i));
        for (String entry : expected) {
          String hash = entry.substring(entry.indexOf('=') + 1);
          byte[] bytes = cluster.get(i, "/v1/objects/" + hash);
          assertEquals(hash, Digest.of(bytes).toString(), cluster.id(i));
        }
      }

      // The embedded node gives the same resources for the same manifest.
      var embedded = grit.run("run", manifest.toString(), "--db", "db", "--quiet");
      assertEquals(0, embedded.exit(), embedded::toString);
      assertEquals(expected, exported(grit, null, "part_1", "upper", "size"));
    }
  }
}
