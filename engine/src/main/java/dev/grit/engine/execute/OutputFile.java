package dev.grit.engine.execute;

import dev.grit.engine.object.Digest;
import dev.grit.engine.object.ObjectLayout;
import java.nio.file.Path;

/** One file an attempt wrote: its resource name, its layout, and where its bytes are. */
public record OutputFile(String name, ObjectLayout layout, Path staging) {
  public Digest digest() {
    return layout.digest();
  }

  public long size() {
    return layout.size();
  }
}
