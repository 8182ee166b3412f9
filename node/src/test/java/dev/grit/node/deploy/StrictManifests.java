package dev.grit.node.deploy;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Reads Kubernetes manifests with fabric8's model and rejects what the model does not know.
 *
 * <p>fabric8 is lenient on purpose: a field it does not know (a typo, or a field at the wrong
 * level) and a value of the wrong type end up in {@code additionalProperties}, and an unknown
 * apiVersion/kind becomes a {@link GenericKubernetesResource}. kubectl would reject the first and
 * the API server the second, so here both are errors, reported with their path in the object.
 * Required fields are not checked: the tests assert those explicitly.
 */
final class StrictManifests {
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private StrictManifests() {}

  /** The objects of one YAML file (one or more documents), each checked strictly. */
  static List<HasMetadata> read(Path file) throws IOException {
    Object parsed;
    try {
      parsed = SERIALIZATION.unmarshal(Files.readString(file));
    } catch (RuntimeException e) {
      // A value fabric8 cannot even hold, such as a word where a number belongs.
      throw new AssertionError(file + ": " + e.getMessage().strip(), e);
    }
    List<HasMetadata> objects = new ArrayList<>();
    if (parsed instanceof Collection<?> many) {
      for (Object one : many) {
        objects.add(check(file, one));
      }
    } else {
      objects.add(check(file, parsed));
    }
    return objects;
  }

  private static HasMetadata check(Path file, Object parsed) {
    if (parsed instanceof GenericKubernetesResource g) {
      throw new AssertionError(
          file + ": unknown kind " + g.getApiVersion() + "/" + g.getKind() + " (" + name(g) + ")");
    }
    if (!(parsed instanceof HasMetadata object)) {
      throw new AssertionError(file + ": not a Kubernetes object: " + parsed);
    }
    List<String> unknown = new ArrayList<>();
    collectUnknown(object, object.getKind() + " " + name(object), unknown);
    if (!unknown.isEmpty()) {
      throw new AssertionError(file + ": fields the schema does not have: " + unknown);
    }
    return object;
  }

  private static String name(HasMetadata object) {
    return object.getMetadata() == null ? "?" : object.getMetadata().getName();
  }

  /**
   * Walks the model's getters; every fabric8 object on the way must have no additional
   * properties.
   */
  private static void collectUnknown(Object value, String path, List<String> unknown) {
    if (value == null) {
      return;
    }
    if (value instanceof Collection<?> list) {
      int i = 0;
      for (Object item : list) {
        collectUnknown(item, path + "[" + i++ + "]", unknown);
      }
      return;
    }
    if (value instanceof Map<?, ?> map) {
      map.forEach((k, v) -> collectUnknown(v, path + "[" + k + "]", unknown));
      return;
    }
    if (!value.getClass().getName().startsWith("io.fabric8.")) {
      return; // strings, numbers, booleans
    }
    for (Method getter : value.getClass().getMethods()) {
      if (getter.getParameterCount() != 0
          || Modifier.isStatic(getter.getModifiers())
          || !getter.getName().startsWith("get")
          || getter.getDeclaringClass() == Object.class) {
        continue;
      }
      Object child = invoke(getter, value);
      if (getter.getName().equals("getAdditionalProperties")) {
        if (child instanceof Map<?, ?> extra && !extra.isEmpty()) {
          extra.forEach((k, v) -> unknown.add(path + "." + k + " = " + v));
        }
        continue;
      }
      collectUnknown(child, path + "." + property(getter), unknown);
    }
  }

  private static Object invoke(Method getter, Object target) {
    try {
      return getter.invoke(target);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("cannot read " + getter, e);
    }
  }

  private static String property(Method getter) {
    String n = getter.getName().substring(3);
    return n.isEmpty() ? n : Character.toLowerCase(n.charAt(0)) + n.substring(1);
  }
}
