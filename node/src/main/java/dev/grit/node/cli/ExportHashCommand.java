package dev.grit.node.cli;

import dev.grit.consensus.objects.ChunkStore;
import dev.grit.consensus.state.SqlState;
import dev.grit.engine.object.Digest;
import java.io.OutputStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

/** {@code grit export-hash HASH}: an object's bytes on stdout, verified as they are read. */
@Command(
    name = "export-hash",
    description = "Write the bytes of the object HASH to stdout.",
    mixinStandardHelpOptions = true)
final class ExportHashCommand implements Callable<Integer> {
  @Parameters(index = "0", paramLabel = "HASH", description = "A sha256 (64 hex characters).")
  String hash;

  @Mixin DbOption db;

  @Override
  public Integer call() throws Exception {
    Digest digest;
    try {
      digest = Digest.valueOf(hash);
    } catch (IllegalArgumentException e) {
      System.err.println("grit: " + e.getMessage());
      return Main.FAILED;
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
}
