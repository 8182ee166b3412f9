package dev.grit.node.cli;

/** The embedded contract with outputs captured in a plain directory. */
class PlainEmbeddedRunTest extends EmbeddedRunContract {
  @Override
  String outputMode() {
    return "plain";
  }
}
