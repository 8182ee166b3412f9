package dev.grit.node.cli;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;

/** The embedded contract with outputs captured through FUSE. */
class FuseEmbeddedRunTest extends EmbeddedRunContract {
  @BeforeAll
  static void fuseIsAvailable() {
    assumeTrue(Files.exists(Path.of("/dev/fuse")), "no /dev/fuse on this machine");
  }

  @Override
  String outputMode() {
    return "fuse";
  }
}
