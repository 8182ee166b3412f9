package dev.grit.engine.manifest;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One thing wrong with (or, from {@link Lint}, suspicious about) a manifest, located as precisely
 * as it is known.
 *
 * @param source the file or label the manifest came from
 * @param line 1-based line, or 0 when the problem has no single place (a missing file, no steps)
 * @param column 1-based column, or 0 when unknown
 * @param field the path of the offending value, such as {@code step[2].parallel} (steps are counted
 *     from 0, in file order), or empty when the problem is not about one field
 * @param message what is wrong, in words meant for the manifest's author
 */
public record Problem(String source, int line, int column, String field, String message) {
  public Problem {
    source = source == null ? "" : source;
    field = field == null ? "" : field;
    line = Math.max(line, 0);
    column = line == 0 ? 0 : Math.max(column, 0);
  }

  /**
   * The fields as the API and {@code grit lint -o json} report them: file, line, column, field,
   * message.
   */
  public Map<String, Object> fields() {
    var m = new LinkedHashMap<String, Object>();
    m.put("file", source);
    m.put("line", line);
    m.put("column", column);
    m.put("field", field);
    m.put("message", message);
    return m;
  }

  /**
   * The compiler-style form {@code source:line:column: field: message}; parts that are unknown are
   * left out with their separator, so the line stays clickable in editors and terminals.
   */
  @Override
  public String toString() {
    var sb = new StringBuilder(source);
    if (line > 0) {
      sb.append(':').append(line);
      if (column > 0) {
        sb.append(':').append(column);
      }
    }
    if (sb.length() > 0) {
      sb.append(": ");
    }
    if (!field.isEmpty()) {
      sb.append(field).append(": ");
    }
    return sb.append(message).toString();
  }
}
