/**
 * A card's change against the previous period: its arrow and text, green when it is good news
 * (a rise, or a fall where lower is better) and red when not; nothing when flat.
 */
import type { Change } from '../format.ts'

export function ChangeChip({ delta, lowerIsBetter }: { delta: Change; lowerIsBetter?: boolean }) {
  const rose = delta.direction === 'up' || delta.direction === 'new'
  const good = rose !== Boolean(lowerIsBetter)
  return (
    <span
      class={`change ${delta.direction} ${delta.direction === 'flat' ? '' : good ? 'good' : 'bad'}`}
      title="against the previous period"
    >
      {delta.text}
    </span>
  )
}
