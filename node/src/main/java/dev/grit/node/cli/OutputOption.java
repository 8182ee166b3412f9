package dev.grit.node.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintStream;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code -o table|json|jsonl}: a table for people, the API's JSON for programs (indented), or one
 * compact JSON record per line for streams ({@code jq -c}, log shippers): each element of a list
 * on its own line, anything else as one line.
 */
final class OutputOption {
  enum Format {
    TABLE,
    JSON,
    JSONL
  }

  @Option(
      names = {"-o", "--output"},
      paramLabel = "table|json|jsonl",
      defaultValue = "table",
      converter = FormatConverter.class,
      description = "Output format: table, json or jsonl (default: ${DEFAULT-VALUE}).")
  Format format = Format.TABLE;

  /** Whether records are printed as JSON (either form) rather than for people. */
  boolean structured() {
    return format != Format.TABLE;
  }

  /** Prints {@code value} in this option's JSON form; for tables, callers print their own. */
  void print(JsonNode value, PrintStream out) {
    if (format == Format.JSONL) {
      printLines(value, out);
    } else {
      printJson(value, out);
    }
  }

  /** Prints one record as this option's JSON form would: indented, or on a line of its own. */
  void printRecord(JsonNode record, PrintStream out) {
    if (format == Format.JSONL) {
      out.println(compact(record));
      out.flush();
    } else {
      printJson(record, out);
    }
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

  /** A list's elements one per line; anything else on one line. */
  static void printLines(JsonNode value, PrintStream out) {
    if (value.isArray()) {
      for (JsonNode element : value) {
        out.println(compact(element));
      }
    } else {
      out.println(compact(value));
    }
    out.flush();
  }

  static String compact(JsonNode value) {
    try {
      return ApiClient.JSON.writeValueAsString(value);
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
        throw new TypeConversionException("expected table, json or jsonl, not " + value);
      }
    }
  }
}
