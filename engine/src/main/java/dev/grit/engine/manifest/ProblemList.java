package dev.grit.engine.manifest;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.tomlj.TomlPosition;

/** Collects the problems of one manifest as they are found. */
final class ProblemList {
  private final String source;
  private final List<Problem> problems = new ArrayList<>();

  ProblemList(String source) {
    this.source = source;
  }

  void add(TomlPosition at, String field, String message) {
    if (at == null) {
      add(0, 0, field, message);
    } else {
      add(at.line(), at.column(), field, message);
    }
  }

  void add(int line, int column, String field, String message) {
    problems.add(new Problem(source, line, column, field, message));
  }

  int size() {
    return problems.size();
  }

  boolean isEmpty() {
    return problems.isEmpty();
  }

  /**
   * The problems in the order they occur in the text, those without a place first, so the list
   * reads top to bottom like the manifest; ties keep the order they were found in.
   */
  List<Problem> inTextOrder() {
    var sorted = new ArrayList<>(problems);
    sorted.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
    return sorted;
  }
}
