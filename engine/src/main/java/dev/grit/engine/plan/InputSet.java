package dev.grit.engine.plan;

import dev.grit.engine.object.Digest;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The resources one gather task consumes, sorted by name and then by hash, and its identity: the
 * hash of those (name, hash) pairs. Two sets of the same names and bytes have the same hash
 * whatever their order or record ids, so a set seen before finds its task again.
 */
public record InputSet(List<Member> members) {
  /** Members in the order a gather task sees them: by name, then by hash. */
  public static final Comparator<Member> ORDER =
      Comparator.comparing(Member::name).thenComparing(Member::hash);

  /** One resource of the set, with its record id. */
  public record Member(long resourceId, String name, Digest hash) {}

  public InputSet {
    var sorted = new ArrayList<>(members);
    sorted.sort(ORDER);
    members = List.copyOf(sorted);
  }

  public boolean isEmpty() {
    return members.isEmpty();
  }

  /** The set's identity: SHA-256 over its sorted (name, hash) pairs, each length-prefixed. */
  public Digest hash() {
    var bytes = new ByteArrayOutputStream();
    try (var out = new DataOutputStream(bytes)) {
      out.writeUTF("grit-input-set-v1");
      out.writeInt(members.size());
      for (Member m : members) {
        byte[] name = m.name().getBytes(StandardCharsets.UTF_8);
        out.writeInt(name.length);
        out.write(name);
        out.write(m.hash().toBytes());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Digest.of(bytes.toByteArray());
  }
}
