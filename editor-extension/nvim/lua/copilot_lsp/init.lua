-- copilot-lsp for Neovim >= 0.7: ghost text from `textDocument/inlineCompletion`.
--
-- Typing in insert mode sends a debounced request; the first candidate is drawn after the
-- cursor with extmarks (first line as virtual text, further lines as virtual lines).
-- <Tab> accepts it, <M-]> / <M-[> cycle candidates (asking the server for more when there is
-- only one), <C-]> dismisses it; moving the cursor or leaving insert mode dismisses it too.
local M = {}

local NAMESPACE = vim.api.nvim_create_namespace("copilot_lsp_ghost")
local TRIGGER_INVOKED, TRIGGER_AUTOMATIC = 1, 2

local defaults = {
  cmd = { "copilot-lsp", "serve" },
  -- Sent as initializationOptions (see the server's settings: model, maxNewTokens, ...).
  settings = {},
  -- Filetypes to attach to; an empty list attaches to every normal buffer.
  filetypes = { "python", "javascript", "typescript", "go", "rust", "java", "c", "cpp", "lua" },
  debounce_ms = 200,
  keymaps = { accept = "<Tab>", next = "<M-]>", prev = "<M-[>", dismiss = "<C-]>" },
  highlight = "Comment",
}

M.config = vim.deepcopy(defaults)
local client_id = nil
local timer = nil
local pending = nil -- { client = ..., id = ... } of the request in flight
local ghost = nil -- { bufnr, row, col, items, index, shown } of the suggestion on screen
M.last_latency_ms = nil

local function client()
  return client_id and vim.lsp.get_client_by_id(client_id) or nil
end

local function cancel_pending()
  if pending then
    pending.client.cancel_request(pending.id)
    pending = nil
  end
end

--- Remove the ghost text from the screen and forget it.
function M.dismiss()
  if ghost and vim.api.nvim_buf_is_valid(ghost.bufnr) then
    vim.api.nvim_buf_clear_namespace(ghost.bufnr, NAMESPACE, 0, -1)
  end
  ghost = nil
end

local function insert_text(item)
  if type(item.insertText) == "table" then
    return item.insertText.value
  end
  return item.insertText
end

local function byte_col(bufnr, row, utf16_col)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local ok, col = pcall(vim.str_byteindex, line, utf16_col, true)
  return ok and col or #line
end

--- The part of `item` still to be typed when the cursor is at (row, col), or nil when the
--- item no longer fits what is in the buffer (the user typed something else).
local function remaining_text(bufnr, item, row, col)
  local text = insert_text(item)
  local start_row = item.range.start.line
  if start_row ~= row then
    return nil
  end
  local start_col = byte_col(bufnr, row, item.range.start.character)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  if start_col > col then
    return nil
  end
  local typed = line:sub(start_col + 1, col)
  if text:sub(1, #typed) ~= typed then
    return nil
  end
  return text:sub(#typed + 1)
end

local function render()
  if not ghost then
    return
  end
  local bufnr, row, col = ghost.bufnr, ghost.row, ghost.col
  vim.api.nvim_buf_clear_namespace(bufnr, NAMESPACE, 0, -1)
  local text = remaining_text(bufnr, ghost.items[ghost.index], row, col)
  if not text or text == "" then
    ghost.shown = nil
    return
  end
  ghost.shown = text
  local lines = vim.split(text, "\n", true)
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
  local at_end = col >= #line
  local opts = {
    virt_text = { { lines[1], M.config.highlight } },
    -- 0.7 has no inline virtual text: at the end of a line overlay the text right after
    -- the cursor; mid-line show it at the end of the line instead of hiding code.
    virt_text_pos = at_end and "overlay" or "eol",
    hl_mode = "combine",
  }
  if #lines > 1 then
    local rest = {}
    for i = 2, #lines do
      table.insert(rest, { { lines[i], M.config.highlight } })
    end
    opts.virt_lines = rest
  end
  vim.api.nvim_buf_set_extmark(bufnr, NAMESPACE, row, at_end and col or 0, opts)
end

local function cursor()
  local position = vim.api.nvim_win_get_cursor(0)
  return position[1] - 1, position[2]
end

local function request(trigger, on_items)
  local lsp_client = client()
  local bufnr = vim.api.nvim_get_current_buf()
  if not lsp_client or not vim.lsp.buf_is_attached(bufnr, lsp_client.id) then
    return
  end
  cancel_pending()
  local row, col = cursor()
  local params = vim.lsp.util.make_position_params(0, lsp_client.offset_encoding)
  params.context = { triggerKind = trigger }
  local started = vim.loop.hrtime()
  local ok, id = lsp_client.request("textDocument/inlineCompletion", params, function(err, result)
    pending = nil
    if err or not result then
      return
    end
    M.last_latency_ms = (vim.loop.hrtime() - started) / 1e6
    local now_row, now_col = cursor()
    if vim.api.nvim_get_current_buf() ~= bufnr or now_row ~= row or now_col ~= col then
      return -- the cursor moved on: this answer is stale
    end
    local items = result.items or result
    for _, item in ipairs(items) do
      -- No range (it is optional): the item goes at the position asked for, so text typed
      -- after it is matched against its start like for any other item.
      item.range = item.range or { start = params.position, ["end"] = params.position }
    end
    on_items(bufnr, row, col, items)
  end, bufnr)
  if ok then
    pending = { client = lsp_client, id = id }
  end
end

local function show(bufnr, row, col, items)
  if #items == 0 then
    M.dismiss()
    return
  end
  ghost = { bufnr = bufnr, row = row, col = col, items = items, index = 1 }
  render()
end

--- Ask for a suggestion at the cursor now (also what typing triggers after the debounce).
function M.trigger(kind)
  request(kind or TRIGGER_AUTOMATIC, show)
end

--- Keep the ghost text while the user types what it suggests; true when it is still shown.
local function follow()
  if not ghost or vim.api.nvim_get_current_buf() ~= ghost.bufnr then
    return false
  end
  local row, col = cursor()
  if row == ghost.row and col == ghost.col then
    return ghost.shown ~= nil
  end
  if row ~= ghost.row or col < ghost.col then
    return false
  end
  local text = remaining_text(ghost.bufnr, ghost.items[ghost.index], row, col)
  if not text or text == "" then
    return false
  end
  ghost.col = col
  render()
  return true
end

local function on_text_changed()
  if follow() then
    return -- typed through the suggestion: nothing new to ask
  end
  M.dismiss()
  cancel_pending()
  if timer then
    timer:stop()
  else
    timer = vim.loop.new_timer()
  end
  timer:start(M.config.debounce_ms, 0, vim.schedule_wrap(function()
    if vim.api.nvim_get_mode().mode:sub(1, 1) == "i" then
      M.trigger(TRIGGER_AUTOMATIC)
    end
  end))
end

local function on_cursor_moved()
  if ghost and not follow() then
    M.dismiss()
  end
end

--- Insert the suggestion on screen; returns false when there is none.
function M.accept()
  if not ghost or not ghost.shown then
    return false
  end
  local item = ghost.items[ghost.index]
  local bufnr = ghost.bufnr
  local text = insert_text(item)
  local start_row = item.range.start.line
  local end_row = item.range["end"].line
  local start_col = byte_col(bufnr, start_row, item.range.start.character)
  local end_col = byte_col(bufnr, end_row, item.range["end"].character)
  -- What the user typed since the request is already part of `text`.
  if end_row == ghost.row and end_col < ghost.col then
    end_col = ghost.col
  end
  M.dismiss()
  local lines = vim.split(text, "\n", true)
  vim.api.nvim_buf_set_text(bufnr, start_row, start_col, end_row, end_col, lines)
  local last_row = start_row + #lines - 1
  local last_col = (#lines == 1 and start_col or 0) + #lines[#lines]
  vim.api.nvim_win_set_cursor(0, { last_row + 1, last_col })
  -- Tell the server (`copilot.accepted` with the suggestion's id), as the item asks.
  local lsp_client = client()
  if item.command and lsp_client then
    local command = item.command
    local local_command = vim.lsp.commands[command.command]
    if local_command then
      local_command(command, { bufnr = bufnr, client_id = lsp_client.id })
    else
      local params = { command = command.command, arguments = command.arguments }
      lsp_client.request("workspace/executeCommand", params, function() end, bufnr)
    end
  end
  return true
end

local function cycle(step)
  if not ghost then
    M.trigger(TRIGGER_INVOKED)
    return
  end
  local function move()
    ghost.index = (ghost.index - 1 + step) % #ghost.items + 1
    render()
  end
  if #ghost.items > 1 then
    move()
    return
  end
  -- One candidate so far: an invoked request asks the server for its alternatives.
  local current = ghost
  request(TRIGGER_INVOKED, function(_, _, _, items)
    if ghost ~= current then
      return
    end
    local seen = { [insert_text(current.items[1])] = true }
    for _, item in ipairs(items) do
      if not seen[insert_text(item)] then
        seen[insert_text(item)] = true
        table.insert(current.items, item)
      end
    end
    move()
  end)
end

function M.next()
  cycle(1)
end

function M.prev()
  cycle(-1)
end

--- The suggestion on screen (for tests and statuslines): { text = ..., index = n, count = n }.
function M.current()
  if not ghost or not ghost.shown then
    return nil
  end
  return {
    text = ghost.shown,
    item = ghost.items[ghost.index],
    index = ghost.index,
    count = #ghost.items,
  }
end

--- The server's `copilot/status` (state, model, loadSeconds, ...), or nil without a server.
function M.status(timeout_ms)
  local lsp_client = client()
  if not lsp_client then
    return nil
  end
  local response = lsp_client.request_sync("copilot/status", {}, timeout_ms or 2000)
  return response and response.result or nil
end

local function feed(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), "n", false)
end

local function map_keys(bufnr)
  local keys = M.config.keymaps
  local opts = { buffer = bufnr, silent = true }
  if keys.accept then
    vim.keymap.set("i", keys.accept, function()
      if not M.accept() then
        feed(keys.accept)
      end
    end, opts)
  end
  if keys.next then
    vim.keymap.set("i", keys.next, M.next, opts)
  end
  if keys.prev then
    vim.keymap.set("i", keys.prev, M.prev, opts)
  end
  if keys.dismiss then
    vim.keymap.set("i", keys.dismiss, M.dismiss, opts)
  end
end

local function start_client()
  if client() then
    return client_id
  end
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  capabilities.textDocument.inlineCompletion = { dynamicRegistration = false }
  client_id = vim.lsp.start_client({
    name = "copilot-lsp",
    cmd = M.config.cmd,
    root_dir = vim.loop.cwd(),
    init_options = M.config.settings,
    capabilities = capabilities,
    on_exit = function()
      client_id = nil
    end,
  })
  return client_id
end

--- Attach the server to `bufnr` (the current buffer by default). Buffers without a name
--- are left alone: they have no URI of their own (all would be `file://`, one document).
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].buftype ~= "" or vim.api.nvim_buf_get_name(bufnr) == "" then
    return
  end
  local id = start_client()
  if not id then
    vim.notify("copilot-lsp: cannot start " .. table.concat(M.config.cmd, " "), vim.log.levels.ERROR)
    return
  end
  vim.lsp.buf_attach_client(bufnr, id)
  map_keys(bufnr)
  local group = vim.api.nvim_create_augroup("copilot_lsp_buffer_" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "TextChangedI", "TextChangedP" }, {
    group = group,
    buffer = bufnr,
    callback = on_text_changed,
  })
  vim.api.nvim_create_autocmd("CursorMovedI", { group = group, buffer = bufnr, callback = on_cursor_moved })
  vim.api.nvim_create_autocmd({ "InsertLeave", "BufLeave" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      cancel_pending()
      M.dismiss()
    end,
  })
end

function M.setup(options)
  M.config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), options or {})
  vim.api.nvim_set_hl(0, "CopilotLspGhost", { link = M.config.highlight, default = true })
  M.config.highlight = "CopilotLspGhost"
  local group = vim.api.nvim_create_augroup("copilot_lsp", { clear = true })
  local filetypes = M.config.filetypes
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = #filetypes > 0 and filetypes or "*",
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  vim.api.nvim_create_user_command("CopilotLspStatus", function()
    local status = M.status()
    if not status then
      print("copilot-lsp: not running")
      return
    end
    local latency = M.last_latency_ms and string.format(", last %d ms", M.last_latency_ms) or ""
    print(string.format("copilot-lsp: %s, model %s%s%s", status.state, status.model, latency,
      status.error and (" (" .. status.error .. ")") or ""))
  end, {})
end

return M
