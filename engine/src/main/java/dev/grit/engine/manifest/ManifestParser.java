package dev.grit.engine.manifest;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * Reads a manifest: GRIT's {@code [[step]]} tables ({@code name}, {@code script}, {@code inputs},
 * {@code parallel}, {@code start}) plus grit's extensions (a top-level {@code name}; per step
 * {@code retries}, {@code retry_backoff}, {@code timeout}, {@code env}, {@code priority}).
 *
 * <p>Strict on purpose: an unknown key, a wrong type or an out-of-range value is an error naming
 * its file, line and field, because a misspelt option that were silently ignored would change what
 * a pipeline does without a word. Every problem is reported at once in one {@link
 * ManifestException}; a manifest with any problem yields no {@link Manifest} at all.
 */
public final class ManifestParser {
  static final List<String> TOP_LEVEL_KEYS = List.of("name", "step");

  private ManifestParser() {}

  /**
   * Reads and parses {@code file}. The pipeline is named by the manifest's {@code name}, or else by
   * the file name without its extension ({@code workflow.toml} → {@code workflow}).
   *
   * @throws ManifestException when the file cannot be read (the problem names the path) or the
   *     manifest is invalid
   */
  public static Manifest parse(Path file) throws ManifestException {
    String source = file.toString();
    String text;
    try {
      if (Files.isDirectory(file)) {
        throw new ManifestException(unreadable(source, "it is a directory"));
      }
      text = Files.readString(file);
    } catch (NoSuchFileException e) {
      throw new ManifestException(unreadable(source, "no such file"));
    } catch (AccessDeniedException e) {
      throw new ManifestException(unreadable(source, "permission denied"));
    } catch (CharacterCodingException e) {
      throw new ManifestException(unreadable(source, "it is not UTF-8 text"));
    } catch (IOException e) {
      throw new ManifestException(unreadable(source, String.valueOf(e.getMessage())));
    }
    return parse(source, text, baseName(file));
  }

  /**
   * Parses manifest {@code text}.
   *
   * @param source where the text came from (a path, or a label such as {@code "request"}), used in
   *     messages and kept in the manifest
   * @param defaultName the pipeline name when the manifest has no {@code name}
   * @throws ManifestException listing every problem found, in text order
   */
  public static Manifest parse(String source, String text, String defaultName)
      throws ManifestException {
    var problems = new ProblemList(source);
    TomlParseResult toml = Toml.parse(text);
    if (toml.hasErrors()) {
      // What follows a syntax error is guesswork for the TOML parser; checking it would report
      // consequences of the error rather than mistakes of the author.
      for (TomlParseError error : toml.errors()) {
        problems.add(error.position(), "", "invalid TOML: " + error.getMessage());
      }
      throw new ManifestException(problems.inTextOrder());
    }
    unknownKeys(toml, problems);
    String name = pipelineName(toml, defaultName, problems);
    List<Step> steps = steps(toml, problems);
    if (!problems.isEmpty()) {
      throw new ManifestException(problems.inTextOrder());
    }
    return new Manifest(name, source, text, steps);
  }

  /** The file name without its last extension: the default pipeline name. */
  static String baseName(Path file) {
    Path fileName = file.getFileName();
    String name = fileName == null ? "" : fileName.toString();
    int dot = name.lastIndexOf('.');
    return dot > 0 ? name.substring(0, dot) : name;
  }

  private static Problem unreadable(String source, String why) {
    return new Problem(source, 0, 0, "", "cannot read manifest: " + why);
  }

  private static void unknownKeys(TomlTable toml, ProblemList problems) {
    for (String key : toml.keySet()) {
      if (TOP_LEVEL_KEYS.contains(key)) {
        continue;
      }
      String hint;
      if (key.equals("task")) {
        hint = "; steps are [[step]] tables (early GRIT versions called them [[task]])";
      } else {
        String guess = Names.closest(key, TOP_LEVEL_KEYS);
        hint =
            guess != null
                ? "; did you mean \"" + guess + "\"?"
                : " (the top level may have: " + String.join(", ", TOP_LEVEL_KEYS) + ")";
      }
      problems.add(toml.inputPositionOf(List.of(key)), Names.tomlKey(key), "unknown key" + hint);
    }
  }

  private static String pipelineName(TomlTable toml, String defaultName, ProblemList problems) {
    if (toml.contains(List.of("name"))) {
      TomlPosition at = toml.inputPositionOf(List.of("name"));
      Object value = toml.get(List.of("name"));
      if (!(value instanceof String name)) {
        problems.add(at, "name", "must be a string, not " + TomlTypes.describe(value));
        return null;
      }
      String why = Names.whyInvalid(name);
      if (why != null) {
        problems.add(at, "name", why);
      }
      return name;
    }
    String why = defaultName == null ? "is missing" : Names.whyInvalid(defaultName);
    if (why != null) {
      problems.add(
          0,
          0,
          "name",
          "the pipeline name taken from the file name "
              + why
              + "; set name = \"...\" at the top of the manifest");
    }
    return defaultName;
  }

  private static List<Step> steps(TomlTable toml, ProblemList problems) {
    if (!toml.contains(List.of("step"))) {
      problems.add(0, 0, "step", "a manifest needs at least one [[step]] table");
      return List.of();
    }
    TomlPosition at = toml.inputPositionOf(List.of("step"));
    Object value = toml.get(List.of("step"));
    if (!(value instanceof TomlArray array)) {
      problems.add(
          at,
          "step",
          "must be an array of tables, written [[step]], not " + TomlTypes.describe(value));
      return List.of();
    }
    if (array.isEmpty()) {
      problems.add(at, "step", "a manifest needs at least one [[step]] table");
      return List.of();
    }
    var steps = new ArrayList<Step>();
    for (int i = 0; i < array.size(); i++) {
      Object element = array.get(i);
      TomlPosition elementAt = array.inputPositionOf(i);
      if (!(element instanceof TomlTable table)) {
        problems.add(
            elementAt,
            "step[" + i + "]",
            "must be a table, written [[step]], not " + TomlTypes.describe(element));
        continue;
      }
      Step step = new StepReader(table, i, elementAt, problems).read();
      if (step != null) {
        steps.add(step);
      }
    }
    duplicateNames(array, problems);
    return steps;
  }

  /** Reports each repeated step name at the repeat, naming the line of the first. */
  private static void duplicateNames(TomlArray array, ProblemList problems) {
    Map<String, Integer> firstLine = new HashMap<>();
    for (int i = 0; i < array.size(); i++) {
      if (!(array.get(i) instanceof TomlTable table)
          || !(table.get(List.of("name")) instanceof String name)
          || name.isEmpty()) {
        continue;
      }
      TomlPosition at = table.inputPositionOf(List.of("name"));
      Integer first = firstLine.putIfAbsent(name, at == null ? 0 : at.line());
      if (first != null) {
        problems.add(
            at,
            "step[" + i + "].name",
            "duplicate step name \"" + name + "\"; it is first defined at line " + first);
      }
    }
  }
}
