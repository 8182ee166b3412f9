package dev.grit.engine.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Golden-file tests: every {@code src/test/resources/manifest/CASE.toml} is parsed and linted, and
 * the outcome must equal {@code CASE.expected} byte for byte. A valid manifest renders as {@link
 * ManifestPrinter} prints it, followed by a {@code notes:} section (what its gather steps do) and a
 * {@code warnings:} section when {@link Lint} has any; an
 * invalid one renders as {@code errors:} and one {@link Problem} per line.
 *
 * <p>To accept a deliberate change of output, run with {@code -Dgolden.update=true}: the expected
 * files are rewritten from the current output (review the diff before keeping it). A new case needs
 * only its {@code .toml}; the first update run writes its {@code .expected}.
 */
class ManifestGoldenTest {
  private static final Path DIR =
      Path.of(System.getProperty("basedir", "."), "src", "test", "resources", "manifest");
  private static final boolean UPDATE = Boolean.getBoolean("golden.update");

  @TestFactory
  Stream<DynamicTest> everyCaseMatchesItsExpectedFile() throws IOException {
    List<Path> cases;
    try (Stream<Path> files = Files.list(DIR)) {
      cases = files.filter(f -> f.toString().endsWith(".toml")).sorted().toList();
    }
    assertFalse(cases.isEmpty(), "no golden cases in " + DIR);
    return cases.stream()
        .map(c -> DynamicTest.dynamicTest(c.getFileName().toString(), () -> check(c)));
  }

  private static void check(Path tomlFile) throws IOException {
    String fileName = tomlFile.getFileName().toString();
    Path expectedFile = tomlFile.resolveSibling(fileName.replaceFirst("\\.toml$", ".expected"));
    String text = Files.readString(tomlFile, StandardCharsets.UTF_8);
    // The bare file name as source keeps the expected files free of where the tree lives.
    String actual = render(fileName, text, ManifestParser.baseName(tomlFile));
    if (UPDATE) {
      Files.writeString(expectedFile, actual, StandardCharsets.UTF_8);
      return;
    }
    if (!Files.exists(expectedFile)) {
      fail(expectedFile.getFileName() + " is missing; run with -Dgolden.update=true to create it");
    }
    assertEquals(
        Files.readString(expectedFile, StandardCharsets.UTF_8),
        actual,
        fileName + " (run with -Dgolden.update=true to accept a deliberate change)");
  }

  static String render(String source, String text, String defaultName) {
    try {
      Manifest manifest = ManifestParser.parse(source, text, defaultName);
      var out = new StringBuilder(ManifestPrinter.print(manifest));
      List<Problem> notes = Lint.notes(manifest);
      if (!notes.isEmpty()) {
        out.append("\nnotes:\n");
        notes.forEach(n -> out.append(n).append('\n'));
      }
      List<Problem> warnings = Lint.warnings(manifest);
      if (!warnings.isEmpty()) {
        out.append("\nwarnings:\n");
        warnings.forEach(w -> out.append(w).append('\n'));
      }
      return out.toString();
    } catch (ManifestException e) {
      return "errors:\n" + e.getMessage() + "\n";
    }
  }
}
