package dev.grit.node.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A plain-text table: a header row and left-aligned columns two spaces apart. */
final class Table {
  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  Table(String... header) {
    this.columns = header.length;
    rows.add(header);
  }

  Table row(Object... cells) {
    if (cells.length != columns) {
      throw new IllegalArgumentException(columns + " cells expected, not " + cells.length);
    }
    var text = new String[columns];
    for (int i = 0; i < columns; i++) {
      text[i] = cells[i] == null ? "-" : String.valueOf(cells[i]);
    }
    rows.add(text);
    return this;
  }

  void print(PrintStream out) {
    int[] width = new int[columns];
    for (String[] r : rows) {
      for (int i = 0; i < columns; i++) {
        width[i] = Math.max(width[i], r[i].length());
      }
    }
    var sb = new StringBuilder();
    for (String[] r : rows) {
      for (int i = 0; i < columns; i++) {
        sb.append(r[i]);
        if (i < columns - 1) {
          sb.append(" ".repeat(width[i] - r[i].length() + 2));
        }
      }
      sb.append('\n');
    }
    out.print(sb);
    out.flush();
  }
}
