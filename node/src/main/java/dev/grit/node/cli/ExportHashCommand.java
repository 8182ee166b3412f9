package dev.grit.node.cli;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.SqlState;
import dev.grit.engine.object.Digest;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code grit export-hash HASH}: an object's bytes on stdout, verified as they are read (locally),
 * or streamed from a server when one is named (and {@code --db} is not).
 */
@Command(
    name = "export-hash",
    description = "Write the bytes of the object HASH to stdout.",
    mixinStandardHelpOptions = true)
final class ExportHashCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "HASH", description = "A sha256 (64 hex characters).")
  String hash;

  @Mixin DbOption db;
  @Mixin ServerOption server;
  @Spec CommandSpec spec;

  @Override
  public Integer call() throws Exception {
    Digest digest;
    try {
      digest = Digest.valueOf(hash);
    } catch (IllegalArgumentException e) {
      System.err.println("grit: " + e.getMessage());
      return Main.FAILED;
    }
    if (server.remote(spec)) {
      return remote(digest);
    }
    try (var queries = SqlState.openReadOnly(db.stateFile())) {
      var layout = queries.object(digest);
      if (layout.isEmpty()) {
        System.err.println("grit: no object " + digest);
        return Main.FAILED;
      }
      try (var chunks = ChunkStore.openReadOnly(db.objects());
          var in = chunks.open(layout.get())) {
        OutputStream out = System.out;
        in.transferTo(out);
        out.flush();
      }
      return Main.OK;
    }
  }

  /**
   * Streams the object from the server. The server verifies each chunk as it sends it and cuts
   * the connection on a mismatch; the length is checked here, so a cut shows as an error.
   */
  private int remote(Digest digest) throws Exception {
    HttpResponse<InputStream> r = server.client().download("/v1/objects/" + digest);
    if (r.statusCode() != 200) {
      ApiClient.check(ApiClient.drain(r));
    }
    long expected = r.headers().firstValueAsLong("content-length").orElse(-1);
    long copied;
    try (InputStream in = r.body()) {
      OutputStream out = System.out;
      copied = in.transferTo(out);
      out.flush();
    }
    if (expected >= 0 && copied != expected) {
      System.err.printf(
          "grit: object %s cut short: %d of %d bytes%n", digest, copied, expected);
      return Main.FAILED;
    }
    return Main.OK;
  }
}
