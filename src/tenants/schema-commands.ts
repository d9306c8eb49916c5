/**
 * `schema add|list|remove`: User attributes of one tenant, declared by support and kept in the tenant
 * document, under the tenant's extension URN. Its /Schemas and /ResourceTypes show them, and writes
 * are checked against them.
 */
import { checkId, CliError, type Command, type CommandContext } from './command.ts'
import { DECLARED_TYPES, declarationProblem, tenantExtensionUrn as extensionUrn } from '../scim/schemas/extension.ts'
import type { TenantDocument, UserAttributeDeclaration } from './document.ts'

async function tenantDoc(ctx: CommandContext, id: string): Promise<TenantDocument> {
  const doc = await ctx.store.get(checkId(id))
  if (!doc) throw new CliError(`unknown tenant "${id}" (${ctx.store.where})`)
  return doc
}

function describe(a: UserAttributeDeclaration): string {
  const traits = [
    a.multiValued ? 'multi-valued' : undefined,
    a.caseExact ? 'case-exact' : undefined,
    a.required ? 'required' : undefined,
    a.canonicalValues?.length ? `one of ${a.canonicalValues.join(', ')}` : undefined,
  ].filter(Boolean)
  return `${a.name} (${a.type}${traits.length ? `, ${traits.join(', ')}` : ''})`
}

/** A declaration from the command line, checked against what the tenant has. */
function declaration(
  name: string,
  flags: Record<string, string | undefined>,
  existing: UserAttributeDeclaration[],
): UserAttributeDeclaration {
  const canonical = flags.canonical
    ?.split(',')
    .map((v) => v.trim())
    .filter(Boolean)
  if (flags.description !== undefined && flags.description.length > 500)
    throw new CliError('--description is at most 500 characters', 2)
  const declared: UserAttributeDeclaration = {
    name,
    type: flags.type as UserAttributeDeclaration['type'],
    ...(flags.multi ? { multiValued: true } : {}),
    ...(flags['case-exact'] ? { caseExact: true } : {}),
    ...(flags.required ? { required: true } : {}),
    ...(canonical?.length ? { canonicalValues: canonical } : {}),
    ...(flags.description ? { description: flags.description } : {}),
  }
  const problem = declarationProblem(declared, existing)
  // A taken name is a conflict with what is there; everything else is a usage error.
  if (problem) throw new CliError(problem, /declared already|at most \d+ attributes/.test(problem) ? 1 : 2)
  return declared
}

export const schemaCommands: Record<string, Command> = {
  'schema add': {
    args: ['id', 'attribute'],
    flags: {
      type: { description: `the attribute's type: ${DECLARED_TYPES.join(', ')}` },
      multi: { description: 'multi-valued (an array of values)', boolean: true },
      'case-exact': { description: 'compare strings case-sensitively', boolean: true },
      required: { description: 'every user must carry it (POST, PUT and PATCH results)', boolean: true },
      canonical: { description: 'the values a string may take, comma-separated' },
      description: { description: 'what the attribute holds, shown in /Schemas' },
    },
    summary: "declare a User attribute of the tenant's own extension schema, checked on writes and shown in /Schemas",
    async run(ctx, args, flags) {
      const doc = await tenantDoc(ctx, args.id!)
      const existing = doc.userAttributes ?? []
      const added = declaration(args.attribute!, flags, existing)
      await ctx.store.put({ ...doc, userAttributes: [...existing, added] })
      const urn = extensionUrn(doc.id)
      return {
        json: { tenantId: doc.id, schema: urn, added, attributes: [...existing, added] },
        lines: [
          `Declared ${describe(added)} for tenant ${doc.id}, under ${urn}.`,
          `IdPs send it as "${urn}": { "${added.name}": ... }; /Schemas shows it.`,
          ...(ctx.store.where === 'remote' ? ['Remote KV takes up to 60 s to reach every location.'] : []),
        ],
      }
    },
  },
  'schema list': {
    args: ['id'],
    summary: 'the User attributes declared for the tenant',
    async run(ctx, args) {
      const doc = await tenantDoc(ctx, args.id!)
      const attributes = doc.userAttributes ?? []
      return {
        json: { tenantId: doc.id, schema: extensionUrn(doc.id), attributes },
        lines: attributes.length
          ? [`${extensionUrn(doc.id)}:`, ...attributes.map((a) => `  ${describe(a)}`)]
          : [`Tenant ${doc.id} declares no attributes of its own: attributes outside the core schemas are ignored.`],
      }
    },
  },
  'schema remove': {
    args: ['id', 'attribute'],
    summary: 'stop declaring an attribute: values already stored stay, but are no longer shown, checked or filterable',
    async run(ctx, args) {
      const doc = await tenantDoc(ctx, args.id!)
      const existing = doc.userAttributes ?? []
      const kept = existing.filter((a) => a.name.toLowerCase() !== args.attribute!.toLowerCase())
      if (kept.length === existing.length)
        throw new CliError(`tenant ${doc.id} declares no attribute "${args.attribute}" (schema list ${doc.id})`)
      const next: TenantDocument = { ...doc, userAttributes: kept }
      if (!kept.length) delete next.userAttributes
      await ctx.store.put(next)
      return {
        json: { tenantId: doc.id, removed: args.attribute, attributes: kept },
        lines: [`Tenant ${doc.id} no longer declares ${args.attribute}.`],
      }
    },
  },
}
