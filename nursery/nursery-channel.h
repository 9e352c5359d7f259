/* nursery-channel.h: a main-loop-friendly bounded channel between tasks
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#if !defined (NURSERY_INSIDE) && !defined (NURSERY_COMPILATION)
# error "Only <nursery.h> can be included directly."
#endif

#include <gio/gio.h>

#include "nursery-version-macros.h"

G_BEGIN_DECLS

#define NURSERY_TYPE_CHANNEL (nursery_channel_get_type ())

NURSERY_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (NurseryChannel, nursery_channel, NURSERY, CHANNEL, GObject)

NURSERY_AVAILABLE_IN_1_0
NurseryChannel *nursery_channel_new                    (guint                 capacity);
NURSERY_AVAILABLE_IN_1_0
guint           nursery_channel_get_capacity           (NurseryChannel       *self);
NURSERY_AVAILABLE_IN_1_0
guint           nursery_channel_get_n_items            (NurseryChannel       *self);
NURSERY_AVAILABLE_IN_1_0
gboolean        nursery_channel_is_closed              (NurseryChannel       *self);
NURSERY_AVAILABLE_IN_1_0
void            nursery_channel_close                  (NurseryChannel       *self);

NURSERY_AVAILABLE_IN_1_0
void            nursery_channel_send_async             (NurseryChannel       *self,
                                                        const GValue         *value,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
NURSERY_AVAILABLE_IN_1_0
gboolean        nursery_channel_send_finish            (NurseryChannel       *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
NURSERY_AVAILABLE_IN_1_0
gboolean        nursery_channel_send                   (NurseryChannel       *self,
                                                        const GValue         *value,
                                                        GCancellable         *cancellable,
                                                        GError              **error);
NURSERY_AVAILABLE_IN_1_0
gboolean        nursery_channel_try_send               (NurseryChannel       *self,
                                                        const GValue         *value,
                                                        GError              **error);

NURSERY_AVAILABLE_IN_1_0
void            nursery_channel_receive_async          (NurseryChannel       *self,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
NURSERY_AVAILABLE_IN_1_0
gboolean        nursery_channel_receive_finish         (NurseryChannel       *self,
                                                        GAsyncResult         *result,
                                                        GValue               *value,
                                                        GError              **error);
NURSERY_AVAILABLE_IN_1_0
gboolean        nursery_channel_receive                (NurseryChannel       *self,
                                                        GValue               *value,
                                                        GCancellable         *cancellable,
                                                        GError              **error);
NURSERY_AVAILABLE_IN_1_0
gboolean        nursery_channel_try_receive            (NurseryChannel       *self,
                                                        GValue               *value,
                                                        GError              **error);

NURSERY_AVAILABLE_IN_1_0
void            nursery_channel_send_pointer_async     (NurseryChannel       *self,
                                                        gpointer              item,
                                                        GDestroyNotify        item_destroy,
                                                        GCancellable         *cancellable,
                                                        GAsyncReadyCallback   callback,
                                                        gpointer              user_data);
NURSERY_AVAILABLE_IN_1_0
gboolean        nursery_channel_try_send_pointer       (NurseryChannel       *self,
                                                        gpointer              item,
                                                        GDestroyNotify        item_destroy,
                                                        GError              **error);
NURSERY_AVAILABLE_IN_1_0
gpointer        nursery_channel_receive_pointer_finish (NurseryChannel       *self,
                                                        GAsyncResult         *result,
                                                        GError              **error);
NURSERY_AVAILABLE_IN_1_0
gpointer        nursery_channel_try_receive_pointer    (NurseryChannel       *self,
                                                        GError              **error);

NURSERY_AVAILABLE_IN_1_0
gboolean        nursery_channel_send_pointer_blocking  (NurseryChannel       *self,
                                                        gpointer              item,
                                                        GDestroyNotify        item_destroy,
                                                        GCancellable         *cancellable,
                                                        GError              **error);
NURSERY_AVAILABLE_IN_1_0
gpointer        nursery_channel_receive_pointer_blocking (NurseryChannel     *self,
                                                          GCancellable       *cancellable,
                                                          GError            **error);

G_END_DECLS
