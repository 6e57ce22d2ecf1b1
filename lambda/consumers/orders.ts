/**
 * Example consumer for the `orders` FIFO queue (Shopify order topics such as `orders/create`). Messages of one
 * group are handled in order; a failure holds back the rest of its group until the retry succeeds.
 */
import { z } from 'zod';
import { defineConsumer, PermanentError } from '../consumer';

const shopifyOrder = z.object({
  id: z.number(),
  name: z.string().optional(),
  total_price: z.string().optional(),
  line_items: z.array(z.object({ id: z.number(), quantity: z.number() })).default([]),
});

export const handler = defineConsumer({
  handlers: {
    'shopify.orders/*': {
      schema: shopifyOrder,
      handle: async (event, ctx) => {
        if (event.type === 'orders/create' && event.payload.line_items.length === 0) {
          // Retrying cannot add line items: dead-letter at once, with this reason.
          throw new PermanentError(`order ${event.payload.id} has no line items`);
        }
        ctx.logger.info('order event', { order: event.payload.id, total: event.payload.total_price });
      },
    },
  },
  default: async (event, ctx) => {
    ctx.logger.warn('unexpected event on the orders queue', { source: event.source, type: event.type });
  },
});
