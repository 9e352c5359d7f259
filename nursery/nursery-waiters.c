/* nursery-waiters.c: GTasks waiting for one outcome
 *
 * Copyright 2026 The Nursery authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "nursery-cancel-link-private.h"
#include "nursery-waiters-private.h"

typedef struct
{
  NurseryCancelLink    link;
  NurseryCancelTarget  cancel_target;
  gpointer             target;
} WaiterData;

static void
waiter_data_free (gpointer data)
{
  WaiterData *wd = data;

  /* Never called from inside the cancelled handler (that would
   * deadlock in g_cancellable_disconnect); see _nursery_waiters_complete. */
  _nursery_cancel_link_clear (&wd->link);
  g_free (wd);
}

static void
waiter_cancelled_cb (GCancellable *cancellable,
                     gpointer      data)
{
  WaiterData *wd = data;

  wd->cancel_target (wd->target);
}

void
_nursery_waiters_add (GSList              **waiters,
                      GTask                *waiter,
                      GCancellable         *cancellable,
                      NurseryCancelTarget   cancel_target,
                      gpointer              target)
{
  WaiterData *wd = g_new0 (WaiterData, 1);

  wd->cancel_target = cancel_target;
  wd->target = target;
  g_task_set_task_data (waiter, wd, waiter_data_free);
  *waiters = g_slist_prepend (*waiters, g_object_ref (waiter));

  /* Connected last: if @cancellable is already cancelled the handler
   * runs right now, and the waiter is already in place. */
  _nursery_cancel_link_connect (&wd->link, cancellable, G_CALLBACK (waiter_cancelled_cb), wd);
}

void
_nursery_waiters_complete (GSList       **waiters,
                           const GError  *error)
{
  GSList *list;

  /* The common case: every reported child asks for its starters. */
  if (*waiters == NULL)
    return;

  list = g_slist_reverse (g_steal_pointer (waiters));
  for (GSList *l = list; l != NULL; l = l->next)
    {
      GTask *waiter = l->data;

      /* Disconnect before returning: the waiter's callback may drop the
       * last reference to the target. */
      g_task_set_task_data (waiter, NULL, NULL);
      if (error != NULL)
        g_task_return_error (waiter, g_error_copy (error));
      else
        g_task_return_boolean (waiter, TRUE);
      g_object_unref (waiter);
    }
  g_slist_free (list);
}
