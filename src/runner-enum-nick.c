/* SPDX-License-Identifier: MIT */
/* SPDX-FileCopyrightText: 2026 The Runner authors */
#define G_LOG_DOMAIN "runner-enum"

#include "config.h"

#include "runner-enum-nick.h"

/**
 * runner_enum_get_nick:
 * @enum_type: a registered enum type, such as %RUNNER_TYPE_APP_STATE
 * @value: one of its values
 *
 * The name @value has on the wire and on D-Bus: its nick, given by a
 * `nick=` annotation where the enum is declared (runner-enums.{c,h} are
 * generated from those headers).
 *
 * Returns: (transfer none): a static string
 */
const char *
runner_enum_get_nick (GType enum_type,
                      int   value)
{
  GEnumClass *klass;
  GEnumValue *enum_value;

  g_return_val_if_fail (G_TYPE_IS_ENUM (enum_type), "unknown");

  /* The class of a static type outlives this unref, and the nicks are
   * static strings of the generated code. */
  klass = g_type_class_ref (enum_type);
  enum_value = g_enum_get_value (klass, value);
  g_type_class_unref (klass);

  g_return_val_if_fail (enum_value != NULL, "unknown");
  return enum_value->value_nick;
}
