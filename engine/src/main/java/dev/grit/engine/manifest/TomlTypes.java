package dev.grit.engine.manifest;

import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import org.tomlj.TomlArray;
import org.tomlj.TomlTable;

/** Names TOML value types the way an author would, for "must be X, not Y" messages. */
final class TomlTypes {
  private TomlTypes() {}

  static String describe(Object value) {
    if (value instanceof String) {
      return "a string";
    }
    if (value instanceof Long) {
      return "an integer";
    }
    if (value instanceof Double) {
      return "a float";
    }
    if (value instanceof Boolean) {
      return "a boolean";
    }
    if (value instanceof TomlArray) {
      return "an array";
    }
    if (value instanceof TomlTable) {
      return "a table";
    }
    if (value instanceof OffsetDateTime || value instanceof LocalDateTime) {
      return "a date-time";
    }
    if (value instanceof LocalDate) {
      return "a date";
    }
    if (value instanceof LocalTime) {
      return "a time";
    }
    return "a " + value.getClass().getSimpleName();
  }
}
