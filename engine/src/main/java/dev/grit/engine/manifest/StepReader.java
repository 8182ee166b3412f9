package dev.grit.engine.manifest;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.tomlj.TomlArray;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * Turns one {@code [[step]]} table into a {@link Step}, reporting every problem it finds rather
 * than stopping at the first.
 */
final class StepReader {
  /** Every key a step may have, in the order the documentation lists them. */
  static final List<String> KEYS =
      List.of(
          "name",
          "script",
          "inputs",
          "gather",
          "start",
          "parallel",
          "retries",
          "retry_backoff",
          "timeout",
          "env",
          "priority");

  static final int MAX_PARALLEL = 1_000_000;
  static final int MAX_RETRIES = 100;

  private final TomlTable table;
  private final TomlPosition at;
  private final String prefix;
  private final ProblemList problems;

  /** How many inputs the manifest lists, valid or not; -1 when inputs is not an array. */
  private int declaredInputs;

  /**
   * @param table the step's table
   * @param index its place among the steps, from 0, for field paths
   * @param at where the table starts, for problems that concern the whole step
   */
  StepReader(TomlTable table, int index, TomlPosition at, ProblemList problems) {
    this.table = table;
    this.at = at;
    this.prefix = "step[" + index + "]";
    this.problems = problems;
  }

  /** The step, or null when it has problems (which are then in the problem list). */
  Step read() {
    int before = problems.size();
    unknownKeys();
    String name = name();
    String script = script();
    List<String> inputs = inputs();
    boolean gather = gather();
    start();
    // GRIT's own scheduler never started a step with parallel = 0, hence the pointed message.
    int parallel =
        intInRange(
            "parallel", Step.UNLIMITED, 1, MAX_PARALLEL, "must be at least 1 (GRIT stalls on 0)");
    int retries = intInRange("retries", 0, 0, MAX_RETRIES, null);
    Duration backoff = duration("retry_backoff", Step.DEFAULT_RETRY_BACKOFF, true);
    Duration timeout = duration("timeout", Duration.ZERO, false);
    Map<String, String> env = env(gather);
    int priority = intInRange("priority", 0, Integer.MIN_VALUE, Integer.MAX_VALUE, null);
    if (problems.size() > before) {
      return null;
    }
    return new Step(
        name,
        script,
        inputs,
        gather,
        parallel,
        retries,
        backoff,
        timeout,
        env,
        priority,
        at == null ? 0 : at.line());
  }

  private void unknownKeys() {
    for (String key : table.keySet()) {
      if (!KEYS.contains(key)) {
        String guess = Names.closest(key, KEYS);
        String hint =
            guess != null
                ? "; did you mean \"" + guess + "\"?"
                : " (a step may have: " + String.join(", ", KEYS) + ")";
        problem(key, "unknown key" + hint);
      }
    }
  }

  private String name() {
    if (!table.contains(List.of("name"))) {
      problems.add(at, field("name"), "is required: every step needs a name");
      return null;
    }
    String name = string("name");
    if (name != null) {
      String why = Names.whyInvalid(name);
      if (why != null) {
        problem("name", why);
      }
    }
    return name;
  }

  private String script() {
    if (!table.contains(List.of("script"))) {
      problems.add(at, field("script"), "is required: every step needs a script");
      return null;
    }
    String script = string("script");
    if (script != null && script.isBlank()) {
      problem("script", script.isEmpty() ? "must not be empty" : "must not be only whitespace");
    }
    return script;
  }

  private List<String> inputs() {
    if (!table.contains(List.of("inputs"))) {
      return List.of();
    }
    Object value = table.get(List.of("inputs"));
    if (!(value instanceof TomlArray array)) {
      declaredInputs = -1;
      problem("inputs", mustBe("an array of resource names, e.g. inputs = [\"data\"]", value));
      return List.of();
    }
    declaredInputs = array.size();
    var inputs = new ArrayList<String>();
    for (int i = 0; i < array.size(); i++) {
      Object element = array.get(i);
      String elementField = field("inputs") + "[" + i + "]";
      if (!(element instanceof String pattern)) {
        problems.add(array.inputPositionOf(i), elementField, mustBe("a string", element));
      } else if (pattern.isBlank()) {
        problems.add(array.inputPositionOf(i), elementField, "must not be empty");
      } else {
        inputs.add(pattern);
      }
    }
    return inputs;
  }

  /** {@code gather = true}: one task over the whole set of matching resources (fan-in). */
  private boolean gather() {
    if (!table.contains(List.of("gather"))) {
      return false;
    }
    Object value = table.get(List.of("gather"));
    if (!(value instanceof Boolean gather)) {
      problem("gather", mustBe("a boolean (true or false)", value));
      return false;
    }
    if (gather && declaredInputs == 0) {
      problem(
          "gather",
          "gather = true but the step has no inputs: a gather step runs once over every resource"
              + " its inputs match; add inputs = [\"pattern\", ...]");
    }
    return gather;
  }

  private void start() {
    if (!table.contains(List.of("start"))) {
      return;
    }
    Object value = table.get(List.of("start"));
    if (!(value instanceof Boolean start)) {
      problem("start", mustBe("a boolean (true or false)", value));
    } else if (start && declaredInputs > 0) {
      problem("start", "start = true but the step has inputs; a start step has none");
    } else if (!start && declaredInputs == 0) {
      // Without inputs the step runs once at the start whatever this says; saying otherwise
      // would hide a forgotten inputs line.
      problem(
          "start",
          "start = false but the step has no inputs, so it would run as a start step anyway;"
              + " add inputs or remove start");
    }
  }

  /**
   * The integer at {@code key}, or {@code absent} when it is not there or not valid.
   *
   * @param ifZero the message for 0 when 0 is below {@code min}, or null for the usual one
   */
  private int intInRange(String key, int absent, int min, int max, String ifZero) {
    if (!table.contains(List.of(key))) {
      return absent;
    }
    Object value = table.get(List.of(key));
    if (!(value instanceof Long n)) {
      problem(key, mustBe("an integer", value));
      return absent;
    }
    if (n < min) {
      problem(key, n == 0 && ifZero != null ? ifZero : "must be at least " + min);
      return absent;
    }
    if (n > max) {
      problem(key, "must be at most " + max);
      return absent;
    }
    return n.intValue();
  }

  private Duration duration(String key, Duration absent, boolean zeroAllowed) {
    if (!table.contains(List.of(key))) {
      return absent;
    }
    Object value = table.get(List.of(key));
    Duration d;
    try {
      if (value instanceof String text) {
        d = Durations.parse(text);
      } else if (value instanceof Long seconds) {
        d = Durations.ofSeconds(seconds);
      } else {
        problem(key, mustBe("a duration such as \"10s\" or an integer number of seconds", value));
        return absent;
      }
    } catch (IllegalArgumentException e) {
      problem(key, e.getMessage());
      return absent;
    }
    if (d.isZero() && !zeroAllowed) {
      problem(key, "must be longer than 0; leave " + key + " out for no limit");
      return absent;
    }
    return d;
  }

  private Map<String, String> env(boolean gather) {
    if (!table.contains(List.of("env"))) {
      return Map.of();
    }
    Object value = table.get(List.of("env"));
    if (!(value instanceof TomlTable envTable)) {
      problem("env", mustBe("a table of strings, e.g. env = { LANG = \"C\" }", value));
      return Map.of();
    }
    var env = new LinkedHashMap<String, String>();
    for (String key : envTable.keySet()) {
      TomlPosition keyAt = envTable.inputPositionOf(List.of(key));
      String keyField = field("env") + "." + Names.tomlKey(key);
      Object v = envTable.get(List.of(key));
      String why = Names.whyInvalidEnv(key, gather);
      if (why != null) {
        problems.add(keyAt, keyField, why);
      } else if (!(v instanceof String s)) {
        String hint = v instanceof TomlTable || v instanceof TomlArray ? "" : "; quote it";
        problems.add(keyAt, keyField, mustBe("a string", v) + hint);
      } else {
        env.put(key, s);
      }
    }
    return env;
  }

  private String string(String key) {
    Object value = table.get(List.of(key));
    if (value instanceof String s) {
      return s;
    }
    problem(key, mustBe("a string", value));
    return null;
  }

  private void problem(String key, String message) {
    problems.add(table.inputPositionOf(List.of(key)), field(key), message);
  }

  private String field(String key) {
    return prefix + "." + Names.tomlKey(key);
  }

  private static String mustBe(String expected, Object actual) {
    return "must be " + expected + ", not " + TomlTypes.describe(actual);
  }
}
