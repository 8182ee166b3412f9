package dev.grit.node.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/** {@code -o table|json}: a table for people, the API's JSON for programs. */
final class OutputOption {
  enum Format {
    TABLE,
    JSON
  }

  @Option(
      names = {"-o", "--output"},
      paramLabel = "table|json",
      defaultValue = "table",
      converter = FormatConverter.class,
      description = "Output format: table or json (default: ${DEFAULT-VALUE}).")
  Format format = Format.TABLE;

  boolean json() {
    return format == Format.JSON;
  }

  /** Prints the server's JSON, indented. */
  static void printJson(JsonNode value, PrintStream out) {
    try {
      out.println(ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(value));
      out.flush();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  static final class FormatConverter implements ITypeConverter<Format> {
    @Override
    public Format convert(String value) {
      try {
        return Format.valueOf(value.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException("expected table or json, not " + value);
      }
    }
  }
}
