package dev.grit.node.cli;

import com.fasterxml.jackson.databind.JsonNode;

/** A run named on the command line: its id, or {@code @latest} for the newest one. */
final class RunRef {
  static final String LATEST = "@latest";

  private RunRef() {}

  static long resolve(ApiClient client, String ref) throws ClientException {
    if (ref.equals(LATEST)) {
      JsonNode runs = client.getJson("/v1/runs?limit=1");
      if (runs.isEmpty()) {
        throw new ClientException(Main.FAILED, "there are no runs yet");
      }
      return runs.get(0).path("id").asLong();
    }
    try {
      long id = Long.parseLong(ref);
      if (id > 0) {
        return id;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new ClientException(
        Main.USAGE, "not a run id: " + ref + " (a number, or " + LATEST + ")");
  }
}
