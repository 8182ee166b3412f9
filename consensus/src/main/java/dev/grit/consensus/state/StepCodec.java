package dev.grit.consensus.state;

import dev.grit.engine.manifest.Step;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The columns of a step's inputs and env: newline-separated, with {@code \\} and newline escaped
 * in values. Readable in the sqlite shell and stable across versions.
 */
final class StepCodec {

  String encodeInputs(List<String> inputs) {
    return join(inputs);
  }

  String encodeEnv(Map<String, String> env) {
    var parts = new ArrayList<String>();
    for (var e : new TreeMap<>(env).entrySet()) {
      parts.add(e.getKey() + "=" + e.getValue());
    }
    return join(parts);
  }

  /** Reads columns (id, name, script, inputs, env, parallel, retries, retry_backoff_ms, timeout_ms, priority). */
  Step fromRow(ResultSet rs) throws SQLException {
    return fromRow(rs, false);
  }

  /** As {@link #fromRow(ResultSet)}, for a gather step when {@code gather}. */
  Step fromRow(ResultSet rs, boolean gather) throws SQLException {
    var env = new TreeMap<String, String>();
    for (String kv : split(rs.getString(5))) {
      int eq = kv.indexOf('=');
      env.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return new Step(
        rs.getString(2),
        rs.getString(3),
        split(rs.getString(4)),
        gather,
        rs.getInt(6),
        rs.getInt(7),
        Duration.ofMillis(rs.getLong(8)),
        Duration.ofMillis(rs.getLong(9)),
        env,
        rs.getInt(10),
        0);
  }

  private static String join(List<String> values) {
    var sb = new StringBuilder();
    for (String v : values) {
      if (sb.length() > 0) {
        sb.append('\n');
      }
      sb.append(v.replace("\\", "\\\\").replace("\n", "\\n"));
    }
    return sb.toString();
  }

  private static List<String> split(String joined) {
    var out = new ArrayList<String>();
    if (joined == null || joined.isEmpty()) {
      return out;
    }
    var cur = new StringBuilder();
    for (int i = 0; i < joined.length(); i++) {
      char ch = joined.charAt(i);
      if (ch == '\\' && i + 1 < joined.length()) {
        char next = joined.charAt(++i);
        cur.append(next == 'n' ? '\n' : next);
      } else if (ch == '\n') {
        out.add(cur.toString());
        cur.setLength(0);
      } else {
        cur.append(ch);
      }
    }
    out.add(cur.toString());
    return out;
  }
}
